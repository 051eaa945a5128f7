/** Xen host dumps: where the hypervisor lives, its console and domains, and dom0 inside it. */
export * from "./conring.js";
export * from "./dom0.js";
export * from "./domains.js";
export * from "./host.js";
export * from "./hypervisor.js";
export * from "./layout.js";
export * from "./open.js";
export * from "./p2m.js";
export * from "./physstart.js";
export * from "./symbols.js";
