/**
 * The contract between dump formats (dump/) and everything that reads memory through them
 * (xlat/, kernel/, xen/). Kept tiny on purpose.
 */

/**
 * Synchronous reads of physical memory (for a Xen host dump: machine memory). Addresses and
 * lengths are numbers (< 2^53). Reads may cross page and segment boundaries. Failures are
 * typed: AddressError (not in the dump / not in the machine), ExcludedPageError (filtered out).
 */
export interface PhysReader {
  /** Page size of the dumped machine. */
  readonly pageSize: number;
  readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array;
}
