/**
 * kdumpkit core: runs unchanged in Node and in the browser (no Node imports here).
 * Node file access lives in "kdumpkit/node".
 */
export * from "./btf/index.js";
export * from "./bytes/cursor.js";
export * from "./bytes/hexdump.js";
export * from "./bytes/source.js";
export * from "./codecs/lzo1x.js";
export * from "./codecs/pages.js";
export * from "./codecs/portable.js";
export * from "./codecs/snappy.js";
export * from "./convert/elf.js";
export * from "./convert/flattened.js";
export * from "./convert/kdump.js";
export * from "./convert/sink.js";
export * from "./dump/index.js";
export * from "./elf/listing.js";
export * from "./elf/names.js";
export * from "./elf/reader.js";
export * from "./elf/symbol-listing.js";
export * from "./elf/types.js";
export * from "./elf/writer.js";
export * from "./elfcorehdr/index.js";
export * from "./errors.js";
export * from "./kernel/linux.js";
export * from "./kernel/modules.js";
export * from "./kernel/panic.js";
export * from "./kernel/printk.js";
export * from "./kernel/summary.js";
export * from "./kernel/system-map.js";
export * from "./kernel/tasks.js";
export * from "./kernel/view.js";
export * from "./kernel/x86_64.js";
export * from "./kimage/index.js";
export * from "./memmap/index.js";
export * from "./notes/index.js";
export * from "./symbols/index.js";
export * from "./xen/index.js";
export * from "./xlat/linux-x86_64.js";
export * from "./xlat/x86_64.js";
