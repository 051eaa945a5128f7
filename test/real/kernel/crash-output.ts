import assert from "node:assert/strict";
import type { Kernel } from "../../../src/kernel/open.js";
import type { SystemMap } from "../../../src/kernel/system-map.js";
import { renderRd, renderRdAscii } from "../../../src/report/rd.js";
import { renderVtop, vtopOf } from "../../../src/report/vtop.js";

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

/**
 * Replay a crash transcript's `sym`, `vtop`, `rd -64` (virtual and `-p`) and `rd -a` commands
 * on our kernel view and assert each output; returns how many were checked.
 */
export function checkCrashTranscript(
  transcript: string,
  k: Pick<Kernel, "space" | "facts" | "walker" | "pointerSize">,
  readPhys: (addr: number, length: number) => Uint8Array,
  map: SystemMap,
): number {
  let checked = 0;
  for (const { command, output } of parseCrashTranscript(transcript)) {
    const args = command.split(/\s+/);
    if (args[0] === "sym") {
      const [addr, type, name] = output.trim().split(/\s+/);
      assert.equal(map.lookup(name!)?.address.toString(16), addr, command);
      assert.equal(`(${map.lookup(name!)?.type})`, type, command);
      checked++;
    } else if (args[0] === "vtop") {
      const va = BigInt(`0x${args[1]}`);
      assert.equal(renderVtop(vtopOf(k, va), k), vtopWalkPart(output), command);
      checked++;
    } else if (args[0] === "rd" && args[1] === "-a") {
      // `rd -a SYMBOL`: up to the first unprintable byte; crash leaves the last line open
      const sym = map.lookup(args[2] ?? "");
      assert.ok(sym, command);
      assert.equal(renderRdAscii(sym.address, k.space.read(sym.address, 4096), true), `${output}\n`, command);
      checked++;
    } else if (args[0] === "rd" && args.includes("-64")) {
      const phys = args.includes("-p");
      const addr = BigInt(`0x${args[args.length - 2]}`);
      const count = Number(args[args.length - 1]);
      if (/^rd: (read|seek) error/.test(output)) {
        // crash could not read it (e.g. below 1 MiB of a kexec_file_load kdump): neither can we
        assert.throws(
          () => (phys ? readPhys(Number(addr), count * 8) : k.space.read(addr, count * 8)),
          command,
        );
        checked++;
        continue;
      }
      const bytes = phys ? readPhys(Number(addr), count * 8) : k.space.read(addr, count * 8);
      assert.equal(renderRd(addr, bytes, 8), output, command);
      checked++;
    }
  }
  return checked;
}
