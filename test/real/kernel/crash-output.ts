/** Parse the `crash>` transcripts stored beside the fixtures into (command, output) pairs. */
export interface CrashCommand {
  command: string;
  output: string;
}

export function parseCrashTranscript(text: string): CrashCommand[] {
  const out: CrashCommand[] = [];
  let cur: CrashCommand | undefined;
  for (const line of text.split("\n")) {
    // `rd -a` output has no trailing newline, so a prompt can follow text on the same line
    const at = line.indexOf("crash> ");
    if (at >= 0) {
      if (cur && at > 0) cur.output += line.slice(0, at);
      cur = { command: line.slice(at + 7).trim(), output: "" };
      out.push(cur);
    } else if (cur) cur.output += `${line}\n`;
  }
  return out;
}

/** `vtop` output up to (not including) crash's mem_map "PAGE PHYSICAL MAPPING" table. */
export function vtopWalkPart(output: string): string {
  const i = output.indexOf("      PAGE       PHYSICAL");
  return (i >= 0 ? output.slice(0, i) : output).replace(/\n+$/, "\n");
}
