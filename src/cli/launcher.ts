/**
 * The first two lines of the `kdumpkit` binary (dist/kdumpkit.cjs, written by
 * scripts/bundle-cli.mjs): it starts as a shell script that runs itself with Node. The second
 * line is a no-op command and then `exec` to sh, and a string and a comment to JavaScript, so
 * `node dist/kdumpkit.cjs` still runs the file as it is (and "use strict" after it stays a
 * directive).
 *
 * Why: glibc's malloc tunables can only be set by the environment a process starts with. A page
 * fault costs ~10.5 µs on this project's VM (a C loop touching fresh pages), and
 * `convert -l -d 31` took ~8,300 of them, ~2,200 in V8's compile threads (zone memory, freed and
 * faulted in again). With malloc's heap grown in 64 MiB steps, kept (trim and mmap thresholds)
 * and on transparent huge pages where the system offers them on request (madvise), ~4,500; the
 * whole run 398 → 359 ms, `convert -c -d 31` 578 → 539, `dmesg` 134 → 128, `node -e 0` itself
 * 106 → 99 (median of 7; README, "Speed"). The user's own GLIBC_TUNABLES come after ours, so
 * theirs win (`glibc.malloc.hugetlb=0` turns huge pages off); other C libraries ignore the
 * variable.
 *
 * It also unsets NODE_EXTRA_CA_CERTS. Node 20 reads and parses that file, and builds its own root
 * store, while it starts, before any script runs: on a machine whose environment names the system
 * bundle (/etc/ssl/certs/ca-certificates.crt, 144 certificates, set for every tool on many
 * corporate and CI machines) `node -e 0` takes 51 ms against 17 without it (strace: 38 ms between
 * opening openssl.cnf and the end of the bundle's reads), and `convert -l -d 31` of the corpus
 * vmcore 175 against 146 (median of 11). kdumpkit opens no TLS connection (its one network
 * use, `web`, serves plain HTTP on 127.0.0.1), so the certificates are never used; should it ever
 * make one, this must go.
 */
export const MALLOC_TUNABLES =
  "glibc.malloc.hugetlb=1:glibc.malloc.top_pad=67108864:glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=33554432";

/**
 * The launcher: a #! line for sh and the line that sets the tunables, unsets NODE_EXTRA_CA_CERTS
 * and execs Node on this file.
 */
export const LAUNCHER = `#!/bin/sh\n":" //; unset NODE_EXTRA_CA_CERTS; GLIBC_TUNABLES="${MALLOC_TUNABLES}\${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}" exec node "$0" "$@"`;
