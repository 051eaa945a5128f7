/** Poll `what` every 5 ms until it holds or `ms` pass; its last answer. */
export async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return what();
}
