/*
 * Reference for the page-table-walk bench (bench/xlat-cases.ts): translate every kernel virtual
 * address listed in ADDRS (one hex address a line) ROUNDS times through libkdumpfile's addrxlat
 * (KVADDR -> KPHYSADDR, Linux x86_64 translation system set up from the dump), or with --read
 * read 8 bytes at each through kdump_read(KDUMP_KVADDR). Prints the count, the failures and the
 * XOR of the first round's results (every round's are counted, so no work can be skipped). Our own code, linked with Debian's
 * libkdumpfile-dev: cc -O2 kdumpfile-xlat.c -lkdumpfile -laddrxlat
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libkdumpfile/kdumpfile.h>
#include "kdumpfile-open.h"
#include <libkdumpfile/addrxlat.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s DUMP ADDRS ROUNDS [--read]\n", argv[0]);
		return 2;
	}
	int do_read = argc > 4 && strcmp(argv[4], "--read") == 0;
	long rounds = atol(argv[3]);
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	size_t cap = 1 << 16, n = 0;
	uint64_t *va = malloc(cap * sizeof *va);
	unsigned long long v;
	while (fscanf(f, "%llx", &v) == 1) {
		if (n == cap)
			va = realloc(va, (cap *= 2) * sizeof *va);
		va[n++] = v;
	}
	fclose(f);
	kdump_ctx_t *ctx = open_dump(argv[1]);
	if (kdump_set_string_attr(ctx, "addrxlat.ostype", "linux") != KDUMP_OK) {
		fprintf(stderr, "ostype: %s\n", kdump_get_err(ctx));
		return 1;
	}
	addrxlat_ctx_t *xctx;
	addrxlat_sys_t *xsys;
	if (kdump_get_addrxlat(ctx, &xctx, &xsys) != KDUMP_OK) {
		fprintf(stderr, "addrxlat: %s\n", kdump_get_err(ctx));
		return 1;
	}
	uint64_t x = 0, ok = 0, fail = 0;
	for (long r = 0; r < rounds; r++)
		for (size_t i = 0; i < n; i++) {
			if (do_read) {
				uint64_t word;
				size_t len = sizeof word;
				if (kdump_read(ctx, KDUMP_KVADDR, va[i], &word, &len) == KDUMP_OK) {
					if (r == 0)
						x ^= word;
					ok++;
				} else
					fail++;
				continue;
			}
			addrxlat_fulladdr_t fa = { va[i], ADDRXLAT_KVADDR };
			if (addrxlat_fulladdr_conv(&fa, ADDRXLAT_KPHYSADDR, xctx, xsys) == ADDRXLAT_OK) {
				if (r == 0)
					x ^= fa.addr;
				ok++;
			} else
				fail++;
		}
	printf("%llu translated, %llu failed, xor %016llx\n", (unsigned long long)ok,
	       (unsigned long long)fail, (unsigned long long)x);
	addrxlat_ctx_decref(xctx);
	addrxlat_sys_decref(xsys);
	kdump_free(ctx);
	return 0;
}
