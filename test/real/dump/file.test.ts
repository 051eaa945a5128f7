/**
 * The kdump headers as file(1) describes them (X.file.txt beside each dump): signature,
 * version, flattened container, and every utsname field (file prints the non-empty ones).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { KdumpBackend } from "../../../src/dump/diskdump.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

const DUMPS = [
  "kdump/capture/dumpfile.zlib-d31",
  "kdump/capture/dumpfile.lzo-d31",
  "qemu-dump/guest.kdump-zlib",
  "xen-kdump/vmcore.dom0-d31.kdump-zlib",
];

for (const rel of DUMPS) {
  test(`${rel}: header as file(1) describes it`, { skip: skipNoFixtures }, () => {
    const ref = fs.readFileSync(fixturePath(`${rel}.file.txt`), "utf8").split("\n")[0]!;
    const want = ref.slice(ref.indexOf(": ") + 2).trim();
    const { dump, close } = openDumpFile(fixturePath(rel));
    try {
      const k = dump.backend as KdumpBackend;
      assert.ok(k instanceof KdumpBackend);
      const u = k.utsname;
      const fields: [string, string][] = [
        ["system", u.sysname],
        ["node", u.nodename],
        ["release", u.release],
        ["version", u.version],
        ["machine", u.machine],
        ["domain", u.domainname],
      ];
      const got = [
        `${dump.flattened ? "Flattened kdump" : "Kdump"} compressed dump v${k.header.version}`,
        ...fields.filter(([, v]) => v).map(([n, v]) => `${n} ${v}`),
      ].join(", ");
      assert.equal(got, want);
    } finally {
      close();
    }
  });
}
