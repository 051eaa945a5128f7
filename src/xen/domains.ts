/**
 * The hypervisor's domain list: `struct domain *domain_list`, linked by
 * domain->next_in_list, offsets from VMCOREINFO_XEN (OFFSET(domain.domain_id),
 * OFFSET(domain.next_in_list); xen/arch/x86/crash.c arch_crash_save_vmcoreinfo). The list
 * comes from a crashed machine: loops and unreadable links end the walk with a stated reason.
 */

import type { KdumpkitError } from "../errors.js";
import { FormatError, hex, rethrowMissing } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { readXenU32, readXenWord, type XenVirtualSpace } from "./hypervisor.js";

export interface XenDomain {
  /** Address of struct domain. */
  address: bigint;
  /** domid_t (uint16). */
  domainId: number;
}

export interface XenDomainList {
  domains: XenDomain[];
  /** Why the walk stopped early (loop, unreadable link, limit); absent when it reached NULL. */
  stopped?: string;
}

/** DOMID_FIRST_RESERVED is 0x7ff0: more list entries than that cannot be real domains. */
const MAX_DOMAINS = 0x7ff0;

export function listDomains(space: XenVirtualSpace, info: Vmcoreinfo, limit = MAX_DOMAINS): XenDomainList {
  const head = info.symbol("domain_list");
  const idOff = info.offset("domain.domain_id");
  const nextOff = info.offset("domain.next_in_list");
  if (head === undefined || idOff === undefined || nextOff === undefined)
    throw new FormatError(
      "VMCOREINFO_XEN lacks SYMBOL(domain_list), OFFSET(domain.domain_id) or OFFSET(domain.next_in_list)",
    );
  const domains: XenDomain[] = [];
  const seen = new Set<bigint>();
  let cur: bigint;
  try {
    cur = readXenWord(space, head);
  } catch (e) {
    rethrowMissing(e);
    return { domains, stopped: `cannot read domain_list at ${hex(head)}: ${(e as KdumpkitError).message}` };
  }
  while (cur !== 0n) {
    if (seen.has(cur)) return { domains, stopped: `loop: domain at ${hex(cur)} is already in the list` };
    if (domains.length >= limit) return { domains, stopped: `more than ${limit} domains: list is corrupt` };
    seen.add(cur);
    let domainId: number;
    let next: bigint;
    try {
      domainId = readXenU32(space, cur + BigInt(idOff)) & 0xffff;
      next = readXenWord(space, cur + BigInt(nextOff));
    } catch (e) {
      rethrowMissing(e);
      return { domains, stopped: `cannot read domain at ${hex(cur)}: ${(e as KdumpkitError).message}` };
    }
    domains.push({ address: cur, domainId });
    cur = next;
  }
  return { domains };
}
