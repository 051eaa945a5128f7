/**
 * The web app end to end in a real Chromium (Debian's `chromium`, driven by playwright-core):
 * the fixtures opened through the file input must show what the CLI shows; every request the
 * page makes is recorded and must stay on the app's origin and carry no file bytes; console
 * errors fail the test; a 4 GiB sparse dump opens with bounded memory. One browser for all.
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { main } from "../../src/cli/main.js";
import { openDumpFile } from "../../src/node/dump.js";
import { startWebServer, type WebServer } from "../../src/node/web-server.js";
import { dumpInfo } from "../../src/report/info.js";
import { cutInsideLog } from "../cut-log.js";
import { fixtureFile, fixturePath, hasFixtures } from "../fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const here = path.dirname(fileURLToPath(import.meta.url));
const root = here.includes(`${path.sep}build${path.sep}`)
  ? path.resolve(here, "..", "..", "..")
  : path.resolve(here, "..", "..");
const BIN = path.resolve(here, "..", "..", "src", "cli", "bin.js");
const skip = !fs.existsSync(CHROMIUM)
  ? "needs Chromium: install the Debian package chromium (apt-get install -y chromium; .ci/run does)"
  : !hasFixtures()
    ? "fixtures absent"
    : false;

async function cli(args: string[], opts: { cwd?: string } = {}): Promise<string> {
  if (opts.cwd) {
    const back = process.cwd();
    process.chdir(opts.cwd);
    try {
      return await cli(args);
    } finally {
      process.chdir(back);
    }
  }
  // text as the terminal shows it; raw log bytes as latin1, as the page decodes them
  let out = "";
  const code = await main(args, {
    stdout: (s) => {
      out += typeof s === "string" ? s : Buffer.from(s).toString("latin1");
    },
    stderr: () => {},
    tty: false,
  });
  assert.equal(code, 0, `kdumpkit ${args.join(" ")}`);
  return out;
}

describe("web app in Chromium", { skip }, () => {
  let server: WebServer;
  let context: BrowserContext;
  let profile: string;
  let appDir: string;
  const requests: { url: string; method: string; body: number }[] = [];
  const consoleErrors: string[] = [];
  /** Further local servers the tests start (their pages talk to them, and only to them). */
  const ownServers: string[] = [];
  const shots = process.env.KDUMPKIT_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), "kdk-shots-"));

  before(async () => {
    appDir = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-web-"));
    execFileSync(process.execPath, [path.join(root, "scripts", "build-web.mjs"), appDir], { cwd: root });
    server = await startWebServer(appDir);
    profile = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-chromium-"));
    const { chromium } = await import("playwright-core");
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
      viewport: { width: 1280, height: 900 },
    });
    context.on("request", (r) =>
      requests.push({ url: r.url(), method: r.method(), body: r.postDataBuffer()?.length ?? 0 }),
    );
  });

  after(async () => {
    await context?.close();
    await server?.close();
    for (const d of [profile, appDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
    // privacy: everything the page asked for stayed on this origin and sent nothing
    const origins = new Set([server.url, ...ownServers].map((u) => new URL(u).origin));
    assert.ok(requests.length > 0);
    for (const r of requests) {
      if (r.url.startsWith("blob:") || r.url.startsWith("data:")) continue;
      assert.ok(origins.has(new URL(r.url).origin), `request to another origin: ${r.url}`);
      assert.equal(r.method, "GET", `${r.method} ${r.url}`);
      assert.equal(r.body, 0, `request with a body: ${r.url}`);
    }
    assert.deepEqual(consoleErrors, []);
  });

  async function openPage(files: string[]): Promise<Page> {
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
    // name the address of a failed load (the console message does not)
    page.on("response", (r) => {
      if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    await page.goto(server.url);
    if (files.length) await page.setInputFiles("#file-input", files);
    return page;
  }

  /** Wait until `view` is drawn (the page clears aria-busy when its answer is shown). */
  async function drawn(page: Page, view: string): Promise<void> {
    await page.waitForSelector(`#view[data-view="${view}"][aria-busy="false"]`);
  }

  async function tab(page: Page, view: string): Promise<void> {
    await page.click(`#tab-${view}`);
    await page.waitForSelector(`#tab-${view}[aria-selected="true"]`);
    await drawn(page, view);
    await page.waitForSelector("#view pre, #view canvas");
  }

  /** What a person checks on a screenshot: something is drawn, no error banner, text in the view. */
  async function personLook(page: Page, name: string): Promise<void> {
    assert.equal(
      await page.isVisible(".error-banner"),
      false,
      `${name}: error banner shown: ${await page.textContent(".error-banner")}`,
    );
    const png = await page.screenshot({ path: path.join(shots, `${name}.png`) });
    assert.ok(png.length > 10_000, `${name}: the screenshot looks empty (${png.length} bytes)`);
    const text = (await page.textContent("#view")) ?? "";
    assert.ok(text.trim().length > 20, `${name}: the view is empty`);
  }

  test("first paint under a second; CSP in the header and in the page", async () => {
    const page = await openPage([]);
    const fcp = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          new PerformanceObserver((l) => resolve(l.getEntries()[0]!.startTime)).observe({
            type: "paint",
            buffered: true,
          });
        }),
    );
    assert.ok(fcp < 1000, `first paint after ${fcp} ms`);
    const res = await page.request.get(server.url);
    const csp = res.headers()["content-security-policy"] ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    const meta = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
    assert.match(meta ?? "", /default-src 'none'/);
    assert.match(meta ?? "", /connect-src 'self'/);
    await page.close();
  });

  test("kdump dumpfile.lzo-d31: the CLI's log, page counts and registers", async () => {
    const file = fixturePath("kdump/capture/dumpfile.lzo-d31");
    const page = await openPage([file]);
    await drawn(page, "overview");
    await personLook(page, "overview");
    const name = path.basename(file);
    // info's text names no file: the same bytes as the CLI's
    assert.equal(await page.textContent("#view pre"), await cli(["info", file]));
    const f = openDumpFile(file);
    const info = dumpInfo(f.dump);
    f.close();

    await tab(page, "log");
    const log = (await page.textContent("pre.log")) ?? "";
    // makedumpfile --dump-dmesg's own output, beside the fixture
    const want = fs.readFileSync(`${file}.makedumpfile-dmesg.txt`, "latin1");
    const lastLine = want.trimEnd().split("\n").pop()!;
    assert.ok(log.includes(lastLine), `the panic's last line: ${lastLine}`);
    assert.equal(log, want);
    assert.equal(log, await cli(["dmesg", file]));
    await personLook(page, "log");
    await page.fill('input[name="q"]', "panic");
    const filtered = ((await page.textContent("pre.log")) ?? "").split("\n").filter(Boolean);
    assert.ok(filtered.length > 0 && filtered.length < 40, `${filtered.length} lines match "panic"`);
    assert.match(await page.evaluate(() => location.hash), /q=panic/);

    await tab(page, "memmap");
    for (const s of ["present", "zero", "excluded", "not-dumped", "missing"] as const)
      assert.equal(Number(await page.textContent(`.count-${s}`)), info.pages[s], `${s} pages`);
    await page.hover("canvas", { position: { x: 20, y: 20 } });
    assert.match((await page.locator("#view [aria-live]").textContent()) ?? "", /0x[0-9a-f]+–0x/);
    await personLook(page, "memmap");

    await tab(page, "cpus");
    // the CLI run from the fixture's folder names the file as the page does (its base name)
    const here = { cwd: path.dirname(file) };
    assert.equal(await page.locator("#view pre").first().textContent(), await cli(["regs", name], here));
    assert.equal(await page.locator("#view pre").nth(1).textContent(), await cli(["notes", name], here));
    await personLook(page, "cpus");

    // kallsyms + BTF + ORC from the dump's memory, as bt -a, ps and triage print them
    for (const [view, args] of [
      ["triage", ["triage", name]],
      ["bt", ["bt", name, "-a"]],
      ["tasks", ["ps", name]],
    ] as const) {
      await tab(page, view);
      assert.equal(await page.textContent("#view pre"), await cli([...args], here), view);
      await personLook(page, view);
    }

    await tab(page, "memory");
    await page.selectOption('select[name="space"]', "virt");
    // linux_banner is no VMCOREINFO symbol: found in kallsyms read from the dump, as the CLI does
    await page.fill('input[name="addr"]', "linux_banner");
    await page.click('#view button[type="submit"]');
    await page.waitForFunction(() => /linux_banner/.test(location.hash));
    await drawn(page, "memory");
    const rd = await cli(["rd", file, "--virt", "linux_banner", "--count", "32"]);
    assert.equal(await page.textContent("#view pre"), rd);
    await personLook(page, "memory");

    await tab(page, "vtop");
    assert.equal(await page.textContent("#view pre"), await cli(["vtop", file, "init_top_pgt"]));
    await personLook(page, "vtop");

    // reopening the same file restores the view kept in the hash
    const hash = await page.evaluate(() => location.hash);
    await page.reload();
    await page.setInputFiles("#file-input", [file]);
    await page.waitForSelector("#tab-vtop[aria-selected='true']");
    assert.equal(await page.evaluate(() => location.hash), hash);
    await page.close();
  });

  test("kdump dumpfile.zlib-d31: zlib loaded on demand, makedumpfile's log", async () => {
    const file = fixturePath("kdump/capture/dumpfile.zlib-d31");
    const page = await openPage([file]);
    await drawn(page, "overview");
    await tab(page, "log");
    assert.equal(
      await page.textContent("pre.log"),
      fs.readFileSync(`${file}.makedumpfile-dmesg.txt`, "latin1"),
    );
    await page.close();
  });

  for (const arch of ["arm64", "i386"] as const)
    test(`${arch} kdump: the capture kernel's log, registers, backtraces and virtual reads as the CLI`, async () => {
      const file = fixturePath(`${arch}/kdump-nokaslr/capture/dumpfile.zlib-d31`);
      const here = { cwd: path.dirname(file) };
      const name = path.basename(file);
      const page = await openPage([file]);
      await drawn(page, "overview");
      assert.equal(await page.textContent("#view pre"), await cli(["info", file]));
      await tab(page, "log");
      // the log makedumpfile extracted natively in the capture kernel
      const log = (await page.textContent("pre.log")) ?? "";
      assert.equal(log, fs.readFileSync(path.join(path.dirname(file), "dmesg.makedumpfile.txt"), "latin1"));
      assert.equal(log, await cli(["dmesg", file]));
      await tab(page, "cpus");
      assert.equal(await page.locator("#view pre").first().textContent(), await cli(["regs", name], here));
      for (const [view, args] of [
        ["triage", ["triage", name]],
        ["bt", ["bt", name, "-a"]],
      ] as const) {
        await tab(page, view);
        assert.equal(await page.textContent("#view pre"), await cli([...args], here), `${arch} ${view}`);
      }
      await personLook(page, `${arch}-bt`);
      await tab(page, "memory");
      await page.selectOption('select[name="space"]', "virt");
      await page.fill('input[name="addr"]', "init_uts_ns");
      await page.click('#view button[type="submit"]');
      await page.waitForFunction(() => /init_uts_ns/.test(location.hash));
      await drawn(page, "memory");
      assert.equal(
        await page.textContent("#view pre"),
        await cli(["rd", file, "--virt", "init_uts_ns", "--count", "32"]),
      );
      await tab(page, "vtop");
      // the root of the kernel's page tables by default
      assert.equal(await page.textContent("#view pre"), await cli(["vtop", file, "swapper_pg_dir"]));
      await personLook(page, `${arch}-vtop`);
      await page.close();
    });

  test("kdumpkit web FILE: the page opens the file offered by the local server (range requests)", async () => {
    const file = fixturePath("kdump/capture/dumpfile.lzo-d31");
    const offered = await startWebServer(appDir, [file]);
    ownServers.push(offered.url);
    try {
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });
      const ranges: string[] = [];
      page.on("request", (r) => {
        const range = r.headers().range;
        if (range) ranges.push(range);
      });
      await page.goto(offered.url);
      await drawn(page, "overview");
      assert.equal(await page.textContent("#view pre"), await cli(["info", file]));
      // read by windows, never whole
      assert.ok(ranges.length > 0 && ranges.every((r) => /^bytes=\d+-\d+$/.test(r)), ranges.join(" "));
      await page.close();
    } finally {
      await offered.close();
    }
  });

  test("kernel image vmlinuz-6.1.0-56-amd64: identification and load-plan picture", async () => {
    const file = fixturePath("kernel/vmlinuz-6.1.0-56-amd64");
    const page = await openPage([file]);
    await page.waitForSelector("#tab-kimage");
    await tab(page, "kimage");
    await page.waitForSelector("#view .svg svg");
    const here = { cwd: path.dirname(file) };
    const name = path.basename(file);
    assert.equal(await page.textContent("#view pre"), await cli(["kimage", name], here));
    assert.equal(
      await page.textContent("pre.plan"),
      await cli(["kimage", "plan", name, "--loader", "decompressor"], here),
    );
    assert.match((await page.textContent("pre.plan")) ?? "", /Load plan: /);
    await personLook(page, "kimage");
    await page.selectOption('select[name="loader"]', "xen");
    await page.waitForFunction(() => /loader=xen/.test(location.hash));
    await drawn(page, "kimage");
    await page.waitForSelector("#view .svg svg");
    await page.close();
  });

  test("Xen host vmcore.zst with xen-syms and System.map: xen_phys_start, dom0's log and crash report", async () => {
    const dump = fixturePath("xen-kdump/capture/vmcore.zst");
    const map = fixturePath("kernel/System.map-6.1.0-56-amd64");
    const syms = fixturePath("xen/xen-syms-4.17-amd64");
    const page = await openPage([dump, map, syms]);
    await page.waitForSelector("#tab-xen", { timeout: 90_000 });
    await tab(page, "xen");
    await page.waitForSelector("pre.dom0-log");
    assert.match((await page.textContent("pre.xen-info")) ?? "", /xen_phys_start:\s+0x2f800000/);
    assert.equal(
      await page.textContent("pre.xen-info"),
      await cli(["xen", "info", path.basename(dump), "--xen-syms", syms, "--system-map", map], {
        cwd: path.dirname(dump),
      }),
    );
    // the hypervisor's console ring as `xen dmesg` prints it
    assert.equal(
      await page.locator("#view pre").nth(1).textContent(),
      await cli(["xen", "dmesg", dump, "--xen-syms", syms]),
    );
    const dom0 = (await page.textContent("pre.dom0-log")) ?? "";
    assert.equal(dom0, await cli(["dmesg", dump, "--domain", "0", "--system-map", map]));
    // why dom0 crashed, as the CLI's triage says it
    assert.equal(
      await page.textContent("pre.dom0-triage"),
      await cli(["triage", dump, "--domain", "0", "--system-map", map]),
    );
    await personLook(page, "xen");
    await page.close();
  });

  test("ELF headers, and the ELF core header built from /proc/iomem and kexec -d", async () => {
    const page = await openPage([
      fixturePath("kdump/first/iomem.txt"),
      fixturePath("kdump/first/kexec-debug.txt"),
      fixturePath("kdump/elfcorehdr.bin"),
    ]);
    await page.waitForSelector("#tab-elfcorehdr");
    await tab(page, "elfcorehdr");
    await page.waitForSelector("#view .svg svg");
    assert.match((await page.textContent("#view pre")) ?? "", /core header: \d+ program headers/);
    await personLook(page, "elfcorehdr");
    await tab(page, "elf");
    // the CLI's text, one renderer (src/report/elf.ts): elf -h -S -l -n
    // (the page shows the CLI's standard-error warnings after it)
    const elfText = (await page.textContent("#view pre")) ?? "";
    const elfCli = await cli(["elf", fixturePath("kdump/elfcorehdr.bin"), "-h", "-S", "-l", "-n"]);
    assert.ok(elfText.startsWith(elfCli), elfText);
    assert.match(elfText.slice(elfCli.length), /^(warning: [^\n]*\n)*$/);
    await personLook(page, "elf");
    await page.close();
  });

  test("bad files give a readable message", async () => {
    const bad = path.join(appDir, "garbage.bin");
    fs.writeFileSync(bad, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 3) & 0xff)));
    const cut = path.join(appDir, "cut.kdump");
    fs.writeFileSync(cut, fs.readFileSync(fixturePath("kdump/capture/dumpfile.lzo-d31")).subarray(0, 5000));
    for (const f of [bad, cut]) {
      const page = await openPage([f]);
      await page.waitForSelector(".error-banner:not([hidden])");
      const msg = (await page.textContent(".error-banner")) ?? "";
      assert.ok(msg.includes(path.basename(f)), msg);
      assert.ok(msg.length > 30, msg);
      await page.close();
    }
  });

  test("a dump cut inside its log: the records read, then the line saying where (as dmesg)", async () => {
    const bytes = new Uint8Array(fs.readFileSync(fixtureFile("kdump/capture/vmcore.elf-d31.zst")));
    const { size, read, total } = cutInsideLog(bytes);
    assert.ok(read > 0 && read < total, `${read} of ${total}`);
    const cut = path.join(appDir, "vmcore.cut");
    fs.writeFileSync(cut, bytes.subarray(0, size));
    const page = await openPage([cut]);
    await drawn(page, "overview");
    await tab(page, "log");
    // the records the CLI prints before its IncompleteError line, and that line's words
    const r = spawnSync(process.execPath, [BIN, "dmesg", cut], { maxBuffer: 1 << 26 });
    assert.equal(r.status, 1);
    assert.equal(await page.textContent("pre.log"), r.stdout.toString("latin1"));
    const why = /IncompleteError: (the log is cut: .*)/.exec(r.stderr.toString())![1]!;
    assert.equal(await page.textContent("p.incomplete"), `incomplete: ${why}`);
    await page.close();
  });

  test("a 4 GiB sparse dump opens in seconds with memory under 500 MB", async () => {
    const big = path.join(appDir, "sparse-4g.vmcore");
    const hdr = Buffer.alloc(4096);
    hdr.write("\x7fELF", 0, "latin1");
    hdr[4] = 2; // ELFCLASS64
    hdr[5] = 1; // little-endian
    hdr[6] = 1;
    hdr.writeUInt16LE(4, 16); // ET_CORE
    hdr.writeUInt16LE(62, 18); // EM_X86_64
    hdr.writeUInt32LE(1, 20);
    hdr.writeBigUInt64LE(64n, 32); // e_phoff
    hdr.writeUInt16LE(64, 52);
    hdr.writeUInt16LE(56, 54);
    hdr.writeUInt16LE(1, 56); // one PT_LOAD: 4 GiB of RAM at physical 0
    hdr.writeUInt32LE(1, 64);
    hdr.writeUInt32LE(6, 68);
    hdr.writeBigUInt64LE(4096n, 72);
    hdr.writeBigUInt64LE(0xffff888000000000n, 80);
    hdr.writeBigUInt64LE(0n, 88);
    hdr.writeBigUInt64LE(4n << 30n, 96);
    hdr.writeBigUInt64LE(4n << 30n, 104);
    hdr.writeBigUInt64LE(4096n, 112);
    const fd = fs.openSync(big, "w");
    fs.writeSync(fd, hdr, 0, hdr.length, 0);
    fs.ftruncateSync(fd, 4096 + 4 * 2 ** 30);
    fs.closeSync(fd);
    const t0 = Date.now();
    const page = await openPage([big]);
    await drawn(page, "overview");
    const secs = (Date.now() - t0) / 1000;
    assert.ok(secs < 10, `opened in ${secs} s`);
    assert.match((await page.textContent("#view pre")) ?? "", /present 1048576/);
    await tab(page, "memmap");
    await tab(page, "memory");
    const cdp = await context.newCDPSession(page);
    await cdp.send("Performance.enable");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const heap = metrics.find((m) => m.name === "JSHeapTotalSize")?.value ?? 0;
    assert.ok(heap > 0 && heap < 500e6, `page JS heap ${heap}`);
    // the renderer processes (the page and its worker) as the OS counts them
    const rss = rendererRss();
    assert.ok(rss < 500e6, `renderer RSS ${rss}`);
    await page.close();
    fs.rmSync(big);
  });
});

/** Largest resident set among Chromium renderer processes, from /proc. */
function rendererRss(): number {
  let best = 0;
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "latin1");
      if (!cmd.includes("chromium") || !cmd.includes("--type=renderer")) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "latin1"));
      if (m) best = Math.max(best, Number(m[1]) * 1024);
    } catch {
      // the process went away
    }
  }
  return best;
}
