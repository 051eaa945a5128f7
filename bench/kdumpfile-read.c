/*
 * Reference reader for `npm run bench`: read every page of a dump that libkdumpfile says is
 * in the file (file.pagemap), page by page through kdump_read(KDUMP_MACHPHYSADDR), and print
 * the page count and the XOR of every 64th 32-bit word (so the work cannot be optimised away). Our own code, linked
 * with Debian's libkdumpfile-dev: cc -O2 kdumpfile-read.c -lkdumpfile
 * It also times its own open + read-every-page loop on the monotonic clock and prints
 * "read-ms N" on stderr, as bench/read-pages.ts does, so that the bench can compare reading
 * without either process's start-up (Node's own start is most of a short run).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <libkdumpfile/kdumpfile.h>
#include "kdumpfile-open.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DUMP\n", argv[0]);
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kdump_ctx_t *ctx = open_dump(argv[1]);
	kdump_num_t page_size = 4096, max_pfn = 0;
	kdump_get_number_attr(ctx, KDUMP_ATTR_PAGE_SIZE, &page_size);
	kdump_get_number_attr(ctx, "max_pfn", &max_pfn);
	kdump_attr_t attr;
	attr.type = KDUMP_BITMAP;
	if (kdump_get_typed_attr(ctx, KDUMP_ATTR_FILE_PAGEMAP, &attr) != KDUMP_OK) {
		fprintf(stderr, "pagemap: %s\n", kdump_get_err(ctx));
		return 1;
	}
	kdump_bmp_t *bmp = attr.val.bitmap;
	unsigned char *buf = malloc(page_size);
	uint32_t sum = 0;
	uint64_t pages = 0;
	kdump_addr_t pfn = 0;
	while (pfn < max_pfn && kdump_bmp_find_set(bmp, &pfn) == KDUMP_OK && pfn < max_pfn) {
		size_t len = page_size;
		if (kdump_read(ctx, KDUMP_MACHPHYSADDR, pfn * page_size, buf, &len) != KDUMP_OK) {
			fprintf(stderr, "pfn 0x%llx: %s\n", (unsigned long long)pfn, kdump_get_err(ctx));
			return 1;
		}
		for (size_t i = 0; i < page_size; i += 256)
			sum ^= *(uint32_t *)(buf + i);
		pages++;
		pfn++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%llu pages, xor %08x\n", (unsigned long long)pages, sum);
	fprintf(stderr, "read-ms %.3f\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	kdump_free(ctx);
	return 0;
}
