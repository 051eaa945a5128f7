/** A minimal FDT writer (DTSpec v0.4 §5) for synthetic device trees in tests. */
export interface N {
  name: string;
  props?: [string, Uint8Array][];
  children?: N[];
}
export function cells(...v: number[]): Uint8Array {
  const b = new Uint8Array(v.length * 4);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => {
    dv.setUint32(i * 4, x >>> 0, false);
  });
  return b;
}
export function str(s: string): Uint8Array {
  return new TextEncoder().encode(`${s}\0`);
}
export function fdt(root: N, rsv: [bigint, bigint][] = []): Uint8Array {
  const strings: string[] = [];
  const strOff = (s: string) => {
    let off = 0;
    for (const x of strings) {
      if (x === s) return off;
      off += x.length + 1;
    }
    strings.push(s);
    return off;
  };
  const st: number[] = [];
  const pushBytes = (b: Uint8Array) => {
    const padded = new Uint8Array((b.length + 3) & ~3);
    padded.set(b);
    for (let i = 0; i < padded.length; i += 4) st.push(new DataView(padded.buffer).getUint32(i, false));
  };
  const walk = (n: N) => {
    st.push(1);
    pushBytes(str(n.name));
    for (const [k, v] of n.props ?? []) {
      st.push(3, v.length, strOff(k));
      pushBytes(v);
    }
    for (const c of n.children ?? []) walk(c);
    st.push(2);
  };
  walk(root);
  st.push(9);
  const strBytes = new TextEncoder().encode(strings.map((s) => `${s}\0`).join(""));
  const rsvOff = 40;
  const rsvSize = (rsv.length + 1) * 16;
  const structOff = rsvOff + rsvSize;
  const stringsOff = structOff + st.length * 4;
  const total = stringsOff + strBytes.length;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  [0xd00dfeed, total, structOff, stringsOff, rsvOff, 17, 16, 0, strBytes.length, st.length * 4].forEach(
    (v, i) => {
      dv.setUint32(i * 4, v, false);
    },
  );
  rsv.forEach(([a, s], i) => {
    dv.setBigUint64(rsvOff + i * 16, a, false);
    dv.setBigUint64(rsvOff + i * 16 + 8, s, false);
  });
  st.forEach((v, i) => {
    dv.setUint32(structOff + i * 4, v, false);
  });
  b.set(strBytes, stringsOff);
  return b;
}

/** An arm64 board: 2/2 cells, a bank above 4 GiB, reserved-memory (no-map, cma, ramoops), chosen. */
export const arm64BoardTree: N = {
  name: "",
  props: [
    ["#address-cells", cells(2)],
    ["#size-cells", cells(2)],
  ],
  children: [
    {
      name: "memory@40000000",
      props: [
        ["device_type", str("memory")],
        ["reg", cells(0, 0x40000000, 0, 0x80000000, 0x8, 0x80000000, 0, 0x40000000)],
      ],
    },
    {
      name: "reserved-memory",
      props: [
        ["#address-cells", cells(2)],
        ["#size-cells", cells(2)],
      ],
      children: [
        {
          name: "tee@50000000",
          props: [
            ["reg", cells(0, 0x50000000, 0, 0x200000)],
            ["no-map", new Uint8Array(0)],
          ],
        },
        { name: "cma", props: [["size", cells(0, 0x4000000)]] },
        { name: "ramoops@60000000", props: [["reg", cells(0, 0x60000000, 0, 0x100000)]] },
      ],
    },
    {
      name: "chosen",
      props: [
        ["linux,usable-memory-range", cells(0, 0x9a000000, 0, 0x20000000)],
        ["linux,elfcorehdr", cells(0, 0xb9f00000, 0, 0x10000)],
      ],
    },
  ],
};
