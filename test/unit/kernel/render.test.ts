import assert from "node:assert/strict";
import { test } from "node:test";
import { renderRd } from "../../../src/report/rd.js";

const banner = new TextEncoder().encode("Linux version 6.1.0-56-amd64 (de");

test("rd layout: crash's columns for every width, partial last lines padded", () => {
  assert.equal(
    renderRd(0x15561900n, banner, 8),
    "        15561900:  65762078756e694c 2e36206e6f697372   Linux version 6.\n" +
      "        15561910:  612d36352d302e31 656428203436646d   1.0-56-amd64 (de\n",
  );
  assert.equal(
    renderRd(0x15561900n, banner.subarray(0, 20), 4),
    "        15561900:  756e694c 65762078 6f697372 2e36206e   Linux version 6.\n" +
      "        15561910:  2d302e31                              1.0-\n",
  );
  assert.equal(
    renderRd(0xffffffffac561900n, banner.subarray(0, 6), 2),
    "ffffffffac561900:  694c 756e 2078                            Linux \n",
  );
  // 8-bit: the ASCII column starts at ASCII_START_8 = 51 + 16; a 3-entry line is 16+3+9 long
  assert.equal(
    renderRd(0x100n, new Uint8Array([0x41, 0x00, 0x7f]), 1),
    `             100:  41 00 7f ${" ".repeat(67 - 28)}  A..\n`,
  );
});
