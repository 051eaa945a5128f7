/**
 * The local server of `kdumpkit web`: the static web app on 127.0.0.1 with a CSP that allows
 * connections to this origin only, and optionally files from disk offered to the page
 * (files.json) and read by HTTP range requests (.zst/.gz inputs served from the decompression
 * cache). Nothing is ever received from the page: it only GETs.
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { openFile } from "./open.js";

export const WEB_CSP =
  "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

export interface WebServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

export interface ServedFile {
  name: string;
  path: string;
  size: number;
}

/** Serve `root` (the built app) and `files` on 127.0.0.1:`port` (0: any free port). */
export async function startWebServer(root: string, files: string[] = [], port = 0): Promise<WebServer> {
  const served: ServedFile[] = [];
  for (const f of files) {
    const o = openFile(f);
    o.close();
    served.push({
      name: path.basename(f).replace(/\.(zst|gz)$/i, ""),
      path: o.path,
      size: statSync(o.path).size,
    });
  }
  const list = JSON.stringify(served.map((f, i) => ({ name: f.name, size: f.size, url: `files/${i}` })));
  const server = http.createServer((req, res) => {
    const headers: Record<string, string> = {
      "Content-Security-Policy": WEB_CSP,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, headers).end();
      return;
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    let p = decodeURIComponent(url.pathname);
    if (p === "/files.json") {
      res.writeHead(200, { ...headers, "Content-Type": "application/json" }).end(list);
      return;
    }
    const m = /^\/files\/(\d+)$/.exec(p);
    if (m) {
      const f = served[Number(m[1])];
      if (!f) {
        res.writeHead(404, headers).end();
        return;
      }
      const r = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
      const start = r ? Number(r[1]) : 0;
      const end = r ? Math.min(Number(r[2]), f.size - 1) : f.size - 1;
      if (start > end || start >= f.size) {
        res.writeHead(416, { ...headers, "Content-Range": `bytes */${f.size}` }).end();
        return;
      }
      res.writeHead(r ? 206 : 200, {
        ...headers,
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        "Content-Length": String(end - start + 1),
        ...(r ? { "Content-Range": `bytes ${start}-${end}/${f.size}` } : {}),
      });
      createReadStream(f.path, { start, end }).pipe(res);
      return;
    }
    if (p === "/") p = "/index.html";
    const file = path.resolve(root, `.${path.posix.normalize(p)}`);
    if (!file.startsWith(path.resolve(root)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, {
      ...headers,
      "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
