/** Kernel images: identification, extraction, Xen guest info, load planners. */

export {
  DEFAULT_MAX_OUTPUT,
  type DecodeOptions,
} from "../codecs/output.js";
export {
  decodePayload,
  detectPayloadCodec,
  PAYLOAD_CODECS,
  type PayloadCodec,
  type PayloadCodecName,
  type PayloadOptions,
  type PayloadResult,
} from "../codecs/payload.js";
export * from "./arm64.js";
export * from "./bzimage.js";
export * from "./decompressor.js";
export * from "./identify.js";
export * from "./kexec.js";
export * from "./memory.js";
export * from "./multiboot.js";
export * from "./pe.js";
export type {
  AddressSpace,
  AddrRange,
  EntryPoint,
  LoadPlan,
  Overlap,
  OverlapKind,
  PlannedSegment,
} from "./plan.js";
export * from "./plan-svg.js";
export * from "./planner.js";
export * from "./xenguest.js";
export * from "./xenpv.js";
