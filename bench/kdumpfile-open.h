/*
 * What the bench's libkdumpfile readers (kdumpfile-read.c, kdumpfile-xlat.c) share: open a dump
 * file with libkdumpfile, or print why not and exit 1. The descriptor stays open for the
 * process's life (libkdumpfile reads through it).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <libkdumpfile/kdumpfile.h>

static kdump_ctx_t *open_dump(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	kdump_ctx_t *ctx = kdump_new();
	if (!ctx || kdump_open_fd(ctx, fd) != KDUMP_OK) {
		fprintf(stderr, "open: %s\n", ctx ? kdump_get_err(ctx) : "no memory");
		exit(1);
	}
	return ctx;
}
