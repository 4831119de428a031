/**
 * WGSL helper functions that the ops' `wgsl` templates call, emitted at the top of every
 * generated webgpu kernel. Each is the f32 form of the reference semantics in the op's `scalar`
 * (the same stable formulas as the JS templates), with a `rlp_` prefix so nothing clashes with
 * the snippets TF.js's webgpu backend adds to every shader.
 */
export const WGSL_PRELUDE = `
// NaN and infinity from TF.js's uniforms (a constant NaN does not compile).
fn rlp_nan() -> f32 { return uniforms.NAN; }
fn rlp_inf() -> f32 { return uniforms.INFINITY; }
// 1 / (1 + e^-x) without overflow on either side.
fn rlp_sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
// log(1 + x), accurate for small |x| (WGSL has no log1p).
fn rlp_log1p(x: f32) -> f32 {
  if (abs(x) < 1e-4) { return x * (1.0 - x * (0.5 - x / 3.0)); }
  return log(1.0 + x);
}
// log(1 + e^x) = max(x, 0) + log1p(e^-|x|).
fn rlp_softplus(x: f32) -> f32 { return max(x, 0.0) + rlp_log1p(exp(-abs(x))); }
// tanh, saturated where some drivers' tanh overflows to NaN.
fn rlp_tanh(x: f32) -> f32 {
  if (abs(x) > 10.0) { return sign(x); }
  return tanh(x);
}
// x ** y as JS computes it: 0 ** 0 = 1, a negative base with an integer exponent keeps its sign.
fn rlp_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (x == 0.0) {
    if (y > 0.0) { return 0.0; }
    return rlp_inf();
  }
  let a = exp2(y * log2(abs(x)));
  if (x > 0.0) { return a; }
  if (fract(y) != 0.0) { return rlp_nan(); }
  if (fract(y * 0.5) != 0.0) { return -a; }
  return a;
}
// log Gamma(x) for x > 0: shift below 8 up by 8 (dividing out the product), then Stirling's series.
fn rlp_lgamma(x: f32) -> f32 {
  if (!(x > 0.0)) { return rlp_nan(); }
  var z = x;
  var corr = 0.0;
  if (x < 8.0) {
    var p = x;
    for (var k = 1; k < 8; k++) { p = p * (x + f32(k)); }
    corr = log(p);
    z = x + 8.0;
  }
  let inv = 1.0 / z;
  let inv2 = inv * inv;
  let series = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 * (1.0 / 1680.0))));
  return (z - 0.5) * log(z) - z + series + 0.91893853320467274 - corr;
}
// digamma(x) = d/dx lgamma(x) for x > 0: the same shift, then the asymptotic series.
fn rlp_digamma(x: f32) -> f32 {
  if (!(x > 0.0)) { return rlp_nan(); }
  var z = x;
  var acc = 0.0;
  if (x < 8.0) {
    for (var k = 0; k < 8; k++) { acc = acc + 1.0 / (x + f32(k)); }
    z = x + 8.0;
  }
  let inv = 1.0 / z;
  let inv2 = inv * inv;
  let series = inv2 * (1.0 / 12.0 - inv2 * (1.0 / 120.0 - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0))));
  return log(z) - 0.5 * inv - series - acc;
}
`;
