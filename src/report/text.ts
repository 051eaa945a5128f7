/** Small text helpers shared by the CLI verbs and the web app's views (browser-safe). */

/** "1 page", "2 pages": a count with its noun, singular for one (issue 14.17). */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
