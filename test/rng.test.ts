/**
 * The seeded generator. The first numbers of Generator(0) and Generator(42) are the cross-platform
 * contract documented in src/tensor/rng.ts, so they are pinned here as constants, and those constants
 * are checked against a second, independent implementation written below with BigInt arithmetic
 * (splitmix32 seeding + xoshiro128** as in Blackman & Vigna's reference xoshiro128starstar.c), plus a
 * few steps of xoshiro128** worked out by hand. The rest checks reproducibility and the distributions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, manualSeed, defaultGenerator, Tensor } from '../src/index.js';

// ---------- an independent reference implementation, in BigInt ----------

const M32 = 0xffffffffn;
const u32 = (x: bigint): bigint => x & M32;
const rotl = (x: bigint, k: bigint): bigint => u32((x << k) | (x >> (32n - k)));

/** The four state words for a seed: splitmix32 steps over the seed's low (x) and high (hi) halves. */
function refSeedState(seed: number): bigint[] {
  let x = BigInt(seed) & M32;
  let hi = BigInt(seed) >> 32n;
  const next = (): bigint => {
    x = u32(x + 0x9e3779b9n);
    let z = x ^ hi;
    z = u32((z ^ (z >> 16n)) * 0x85ebca6bn);
    z = u32((z ^ (z >> 13n)) * 0xc2b2ae35n);
    hi = u32(hi + 0x6d2b79f5n);
    return z ^ (z >> 16n);
  };
  return [next(), next(), next(), next()];
}

/** One xoshiro128** step: returns the output and advances s in place. */
function refNext(s: bigint[]): bigint {
  const result = u32(rotl(u32(s[1] * 5n), 7n) * 9n);
  const t = u32(s[1] << 9n);
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11n);
  return result;
}

/** The derived draws, as documented in rng.ts, on top of refNext. */
class RefGenerator {
  private s: bigint[];
  constructor(seed: number) {
    this.s = refSeedState(seed);
  }
  nextUint32(): number {
    return Number(refNext(this.s));
  }
  uniform(): number {
    return Number(refNext(this.s) >> 8n) / 2 ** 24;
  }
  uniform53(): number {
    const a = refNext(this.s) >> 5n; // 27 bits
    const b = refNext(this.s) >> 6n; // 26 bits
    return Number((a << 26n) | b) / 2 ** 53;
  }
  normal(): number {
    const u1 = this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
  randint(low: number, high: number): number {
    return low + Math.floor(this.uniform53() * (high - low));
  }
}

// ---------- the golden values (recorded from the library; the contract) ----------

interface Golden {
  state: number[];
  uint32: number[];
  uniform: number[];
  normal: number[];
  /** randint(0, 10), six draws */
  randint10: number[];
}

const GOLDEN: Record<number, Golden> = {
  0: {
    state: [2462723854, 841779345, 743057347, 2633009342],
    uint32: [3925918437, 692590935, 1396701985, 2585307180],
    uniform: [0.9140740633010864, 0.16125637292861938, 0.3251950144767761],
    normal: [1.172332606919098, -0.7111461729622184, 1.507799737399758],
    randint10: [9, 3, 8, 5, 0, 9],
  },
  42: {
    state: [939911724, 810854946, 2661855861, 3162856356],
    uint32: [1895039288, 4157592513, 932476930, 2569302557],
    uniform: [0.4412232041358948, 0.9680148959159851, 0.21710920333862305],
    normal: [1.0571790318888414, -0.5706202161919525, 1.6233266798011128],
    randint10: [4, 2, 7, 4, 4, 3],
  },
};

/** Normal draws go through Math.log/Math.cos, which engines may round differently in the last bit. */
function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-12 * Math.max(1, Math.abs(expected[i])), `${what}[${i}]: ${v} vs ${expected[i]}`));
}

function draws(make: () => { nextUint32(): number; uniform(): number; normal(): number; randint(l: number, h: number): number }) {
  const take = <T>(n: number, f: (g: ReturnType<typeof make>) => T): T[] => {
    const g = make();
    return Array.from({ length: n }, () => f(g));
  };
  return {
    uint32: take(4, (g) => g.nextUint32()),
    uniform: take(3, (g) => g.uniform()),
    normal: take(3, (g) => g.normal()),
    randint10: take(6, (g) => g.randint(0, 10)),
  };
}

for (const seed of [0, 42]) {
  test(`Generator(${seed}) produces the pinned numbers`, () => {
    const gold = GOLDEN[seed];
    assert.deepEqual(new Generator(seed).getState(), gold.state);
    const d = draws(() => new Generator(seed));
    assert.deepEqual(d.uint32, gold.uint32);
    assert.deepEqual(d.uniform, gold.uniform);
    assert.deepEqual(d.randint10, gold.randint10);
    assertClose(d.normal, gold.normal, 'normal');
  });

  test(`the pinned numbers of seed ${seed} agree with the independent BigInt implementation`, () => {
    const gold = GOLDEN[seed];
    assert.deepEqual(refSeedState(seed).map(Number), gold.state);
    const d = draws(() => new RefGenerator(seed));
    assert.deepEqual(d.uint32, gold.uint32);
    assert.deepEqual(d.uniform, gold.uniform);
    assert.deepEqual(d.randint10, gold.randint10);
    assertClose(d.normal, gold.normal, 'normal');
  });
}

test('xoshiro128** from the state (1, 2, 3, 4), worked by hand', () => {
  // Step 1: result = rotl(2·5, 7)·9 = 1280·9 = 11520. Then t = 2 << 9 = 1024; s2 = 3^1 = 2,
  // s3 = 4^2 = 6, s1 = 2^2 = 0, s0 = 1^6 = 7, s2 = 2^1024 = 1026, s3 = rotl(6, 11) = 12288.
  // Step 2: result = rotl(0·5, 7)·9 = 0. Then t = 0; s2 = 1026^7 = 1029, s3 = 12288^0, s1 = 0^1029 = 1029,
  // s0 = 7^12288 = 12295, s3 = rotl(12288, 11) = 25165824.
  // Step 3: result = rotl(1029·5, 7)·9 = 5145·128·9 = 5927040.
  const g = new Generator();
  g.setState([1, 2, 3, 4]);
  assert.deepEqual([g.nextUint32(), g.nextUint32()], [11520, 0]);
  assert.deepEqual(g.getState(), [12295, 1029, 1029, 25165824]);
  assert.equal(g.nextUint32(), 5927040);
  // A longer stretch agrees with the BigInt version, including the 32-bit wrap-arounds.
  const s = [1n, 2n, 3n, 4n];
  g.setState([1, 2, 3, 4]);
  for (let i = 0; i < 1000; i++) assert.equal(g.nextUint32(), Number(refNext(s)), `step ${i}`);
});

test('seeds above 2^32 use the high half too, and the BigInt seeding agrees', () => {
  const big = 2 ** 40 + 7;
  assert.notDeepEqual(new Generator(big).getState(), new Generator(7).getState());
  assert.notDeepEqual(new Generator(2 ** 32).getState(), new Generator(0).getState());
  assert.deepEqual(new Generator(big).getState(), refSeedState(big).map(Number));
  assert.deepEqual(new Generator(Number.MAX_SAFE_INTEGER).getState(), refSeedState(Number.MAX_SAFE_INTEGER).map(Number));
});

test('the same seed gives the same numbers; different seeds give different numbers', () => {
  const a = new Generator(123);
  const b = new Generator(123);
  const c = new Generator(124);
  const ra = Array.from({ length: 50 }, () => a.nextUint32());
  const rb = Array.from({ length: 50 }, () => b.nextUint32());
  const rc = Array.from({ length: 50 }, () => c.nextUint32());
  assert.deepEqual(ra, rb);
  assert.notDeepEqual(ra, rc);
  // Tensors drawn with a seeded generator repeat too.
  const t1 = Tensor.randn([4, 3], { generator: new Generator(5) });
  const t2 = Tensor.randn([4, 3], { generator: new Generator(5) });
  assert.deepEqual(t1.toArray(), t2.toArray());
  // randn(float32) stores the generator's normal() draws rounded to float32, in order.
  const g = new Generator(5);
  assert.deepEqual(Array.from(t1.toTypedArray()), Array.from({ length: 12 }, () => Math.fround(g.normal())));
});

test('manualSeed resets the default generator', () => {
  assert.equal(manualSeed(7), defaultGenerator);
  const a = Tensor.rand([6]).toArray();
  const b = Tensor.randn([3]).toArray();
  manualSeed(7);
  assert.deepEqual(Tensor.rand([6]).toArray(), a);
  assert.deepEqual(Tensor.randn([3]).toArray(), b);
  // ... to the same stream as a fresh Generator(7).
  manualSeed(7);
  const fresh = new Generator(7);
  assert.deepEqual(Array.from({ length: 5 }, () => defaultGenerator.nextUint32()), Array.from({ length: 5 }, () => fresh.nextUint32()));
  assert.throws(() => manualSeed(-1), /seed must be a non-negative safe integer, got -1/);
  assert.throws(() => manualSeed(1.5), /got 1\.5/);
});

test('getState/setState resume the stream exactly', () => {
  const g = new Generator(99);
  for (let i = 0; i < 17; i++) g.normal();
  const saved = g.getState();
  const next = Array.from({ length: 20 }, () => g.uniform53());
  const h = new Generator(0);
  h.setState(saved);
  assert.deepEqual(Array.from({ length: 20 }, () => h.uniform53()), next);
  // getState returns a copy: changing it does not move the generator.
  const s = g.getState();
  s[0] ^= 1;
  assert.notDeepEqual(g.getState(), s);
  assert.throws(() => h.setState([1, 2, 3]), /expected 4 words, got 3/);
});

/** The state (0, s1, 0, 0) whose first output is `target`: invert ·9, rotl 7 and ·5 mod 2^32. */
function stateFor(target: number): number[] {
  const inv = (a: bigint): bigint => {
    // Newton's iteration for the inverse of an odd number mod 2^32 (each step doubles the correct bits).
    let x = a;
    for (let i = 0; i < 5; i++) x = u32(x * (2n - u32(a * x)));
    return x;
  };
  const beforeMul9 = u32(BigInt(target) * inv(9n));
  const beforeRotl = rotl(beforeMul9, 25n); // rotr 7
  return [0, Number(u32(beforeRotl * inv(5n))), 0, 0];
}

test('uniform lies in [0, 1): 0 is reachable, 1 is not', () => {
  const g = new Generator();
  g.setState(stateFor(0xffffffff));
  const check = new Generator();
  check.setState(stateFor(0xffffffff));
  assert.equal(check.nextUint32(), 0xffffffff, 'the constructed state gives the largest output');
  assert.equal(g.uniform(), 1 - 2 ** -24);
  g.setState(stateFor(0));
  assert.equal(g.uniform(), 0);
  // normal stays finite at both ends (it takes log(1 − u), never log 0).
  g.setState(stateFor(0xffffffff));
  assert.ok(Number.isFinite(g.normal()));
  // And over many draws: all in [0, 1), multiples of 2^-24, mean near 1/2.
  const h = new Generator(1);
  let sum = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const u = h.uniform();
    assert.ok(u >= 0 && u < 1 && Number.isInteger(u * 2 ** 24), `draw ${i}: ${u}`);
    sum += u;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005, `mean ${sum / n}`);
  const r = Tensor.rand([1000], { generator: new Generator(2), dtype: 'float64' }).toArray() as number[];
  assert.ok(r.every((u) => u >= 0 && u < 1));
});

test('normal draws have mean ≈ 0 and variance ≈ 1 over 100k draws', () => {
  const g = new Generator(3);
  const n = 100_000;
  let s1 = 0;
  let s2 = 0;
  let above2 = 0;
  for (let i = 0; i < n; i++) {
    const z = g.normal();
    s1 += z;
    s2 += z * z;
    if (Math.abs(z) > 2) above2++;
  }
  const mean = s1 / n;
  const variance = s2 / n - mean * mean;
  // Standard errors: 1/√n ≈ 0.0032 for the mean, √(2/n) ≈ 0.0045 for the variance.
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
  // P(|z| > 2) = 0.0455 for a standard normal.
  assert.ok(Math.abs(above2 / n - 0.0455) < 0.005, `tail ${above2 / n}`);
});

test('randint stays in [low, high) and reaches every value', () => {
  const g = new Generator(4);
  const counts = new Map<number, number>();
  for (let i = 0; i < 7000; i++) {
    const v = g.randint(-3, 4);
    assert.ok(Number.isInteger(v) && v >= -3 && v < 4, `draw ${i}: ${v}`);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [-3, -2, -1, 0, 1, 2, 3]);
  for (const [v, c] of counts) assert.ok(Math.abs(c - 1000) < 150, `value ${v} drawn ${c} times of 7000`);
  assert.equal(g.randint(5, 6), 5);
  assert.throws(() => g.randint(5, 5), /expected low < high, got \[5, 5\)/);
  const t = Tensor.randint(0, 3, [2, 500], { generator: new Generator(8) });
  assert.equal(t.dtype, 'int32');
  assert.deepEqual(t.shape, [2, 500]);
  assert.ok((t.toArray() as number[][]).flat().every((v) => v >= 0 && v < 3));
});
