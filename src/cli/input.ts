import { type OpenedFile, openFile } from "../node/open.js";
import { progressBar, type VerbContext } from "./common.js";

/** Open an input file for a verb: .gz/.zst decompressed transparently with a progress bar. */
export function openInput(ctx: VerbContext, file: string): OpenedFile {
  return openFile(file, { onProgress: progressBar(ctx, `decompressing ${file}`) });
}
