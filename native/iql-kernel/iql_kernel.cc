// The whole IQL critic step (src/rl/algos/iql.ts) as one native call: minibatch gather, target and
// online forwards, the expectile V loss and the TD losses, the hand-written backward through the
// MLPs (relu / mish / gelu-tanh, optional LayerNorm), Adam as FlatAdam (bias corrections folded
// into two scalars) and the Polyak target update. GEMMs go to OpenBLAS (one thread); the
// elementwise work around them runs in fused passes: bias + LayerNorm + activation after each
// forward GEMM, activation' + LayerNorm backward + the bias/γ/β row sums before each backward
// GEMM, and Adam + Polyak as one pass over the flat parameter vector.
//
// State is NOT kept here: θ, Adam's m and v and the target vector are the caller's Float32Arrays in
// iql.ts's in-memory layout (twins interleaved per tensor, then V); the caller passes each tensor's
// offset, so the layout is defined once, in TypeScript. The kernel owns only the dataset copy and
// scratch buffers. Plain N-API (node_api.h), no C++ wrapper library.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#ifdef IQLK_SCIPY_OPENBLAS
#include <cblas.h>  // scipy-openblas32: symbols prefixed scipy_
#define SGEMM scipy_cblas_sgemm
#define SGEMV scipy_cblas_sgemv
#define BLAS_SET_THREADS scipy_openblas_set_num_threads
#define BLAS_CORENAME scipy_openblas_get_corename
#define BLAS_CONFIG scipy_openblas_get_config
#else
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);
#define SGEMM cblas_sgemm
#define SGEMV cblas_sgemv
#define BLAS_SET_THREADS openblas_set_num_threads
#define BLAS_CORENAME openblas_get_corename
#define BLAS_CONFIG openblas_get_config
#endif

namespace {

enum Act { RELU = 0, MISH = 1, GELU = 2 };
constexpr float LN_EPS = 1e-6f;
constexpr float GELU_K = 0.7978845608028654f;  // √(2/π)
constexpr float GELU_C = 0.044715f;

// ------------------------------------------------------------------------------------------------
// One MLP: linear layers l = 0..L-1, offsets of W, b (and γ, β on hidden layers with LayerNorm)
// into a flat vector (θ for the online nets, the target vector for the target nets, the gradient
// buffer: all share θ's layout).

struct Layer {
  int in, out;
  int64_t oW, ob, og, obe;  // og/obe = -1 without LayerNorm or on the output layer
};

struct Net {
  std::vector<Layer> layers;
};

// What a hidden layer keeps for its backward, for R rows.
struct Hidden {
  std::vector<float> h;     // post-activation [R, out]
  std::vector<float> pre;   // activation input n (LayerNorm output, or z) [R, out]; not for plain relu
  std::vector<float> aux;   // mish: tanh(softplus(n)); gelu: tanh of its inner term
  std::vector<float> xhat;  // LayerNorm: normalised z
  std::vector<float> rstd;  // LayerNorm: 1/√(var + ε) [R]
};

struct Pass {
  std::vector<Hidden> hidden;  // one per hidden layer
  std::vector<float> out;      // [R]
};

// A hidden layer's activation and LayerNorm (the critic kernel's three nets share one; the
// extraction step's actor and frozen critic each have their own).
struct Arch {
  int act;
  bool layerNorm;
};

struct Config : Arch {
  int obsDim, actDim, B;
  std::vector<int> qSizes;  // [obs + act, h1, ..., 1]
  float tau, expectile, beta1, beta2, eps, lr, lrScaleV;
  int64_t P, qEnd, vStart;  // flat length, end of the twins' block, start of V's block
};

struct Kernel {
  Config c;
  Net q1, q2, v;
  // dataset (copied): [N, obs+act], [N, obs], [N, obs], [N], [N]
  int64_t N;
  std::vector<float> obsAct, obs, nextObs, reward, mask;
  // scratch
  std::vector<float> sa, svs, r, m, qt, u, dq1, dq2, dv, grad, da, db;
  Pass pt, pq1, pq2, pv;
};

// Elementwise math written so that GCC vectorises the loops that call it (libm's expf/tanhf are
// scalar calls: they were 55% of a mish step). vexp: Cephes' expf (range reduction by ln 2 in two
// parts, degree-6 polynomial, 2ⁿ built in the exponent bits), ≈ 1 ulp on [−87, 88]; inputs are
// clamped there (e^−87 ≈ 1.6e−38 is the smallest normal: the results below never need less).
#define IQLK_INLINE inline __attribute__((always_inline))
IQLK_INLINE float vexp(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  return p * __builtin_bit_cast(float, (int32_t(n) + 127) << 23);
}
// mish's t = tanh(softplus(x)) = e(e + 2)/(e(e + 2) + 2), e = eˣ: one exp, no cancellation for
// x ≪ 0 (t ≈ e), exactly 1 in float for x ≥ 20 (clamped there: e² stays finite).
IQLK_INLINE float mishT(float x) {
  const float e = vexp(std::min(x, 20.0f));
  const float n = e * (e + 2.0f);
  return n / (n + 2.0f);
}
IQLK_INLINE float sigmoid(float x) { return 1.0f / (1.0f + vexp(-x)); }
// tanh(u) = sign(u)·(1 − 2/(e^{2|u|} + 1)): absolute error ≈ 1 ulp of 1 (gelu uses 1 + T and 1 − T²).
IQLK_INLINE float vtanh(float u) {
  const float a = 1.0f - 2.0f / (vexp(std::min(2.0f * std::fabs(u), 40.0f)) + 1.0f);
  return u < 0.f ? -a : a;
}

void allocPass(Pass& p, const std::vector<int>& sizes, int R, const Arch& c) {
  const bool plain = c.act == RELU && !c.layerNorm;
  p.hidden.resize(sizes.size() - 2);
  for (size_t j = 0; j + 2 < sizes.size(); j++) {
    const size_t n = size_t(R) * sizes[j + 1];
    Hidden& h = p.hidden[j];
    h.h.assign(n, 0.f);
    if (!plain) h.pre.assign(n, 0.f);
    if (c.act != RELU) h.aux.assign(n, 0.f);
    if (c.layerNorm) {
      h.xhat.assign(n, 0.f);
      h.rstd.assign(R, 0.f);
    }
  }
  p.out.assign(size_t(R) * sizes.back(), 0.f);
}

// x·W for R rows: [R, in]·[in, out] → Z (row-major).
inline void matmul(const float* X, const float* W, float* Z, int R, int in, int out) {
  SGEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, out, in, 1.0f, X, in, W, out, 0.0f, Z, out);
}

// Forward of one net on R rows of X (params at base): every hidden layer's GEMM is followed by
// one fused pass (bias, LayerNorm, activation).
void forward(const Net& net, const float* base, const float* X, int R, const Arch& c, Pass& p) {
  const bool plain = c.act == RELU && !c.layerNorm;
  const float* in = X;
  const int L = int(net.layers.size());
  for (int l = 0; l < L - 1; l++) {
    const Layer& ly = net.layers[l];
    Hidden& hc = p.hidden[l];
    const int n = ly.out;
    const float* b = base + ly.ob;
    float* H = hc.h.data();
    if (plain) {
      matmul(in, base + ly.oW, H, R, ly.in, n);
      for (int r = 0; r < R; r++) {
        float* z = H + size_t(r) * n;
        for (int j = 0; j < n; j++) z[j] = std::max(z[j] + b[j], 0.0f);
      }
    } else {
      float* Z = hc.pre.data();
      matmul(in, base + ly.oW, Z, R, ly.in, n);
      for (int r = 0; r < R; r++) {
        float* z = Z + size_t(r) * n;
        float* h = H + size_t(r) * n;
        for (int j = 0; j < n; j++) z[j] += b[j];
        if (c.layerNorm) {
          const float* g = base + ly.og;
          const float* be = base + ly.obe;
          float* xh = hc.xhat.data() + size_t(r) * n;
          float s = 0.f;
#pragma omp simd reduction(+ : s)
          for (int j = 0; j < n; j++) s += z[j];
          const float mu = s / float(n);
          float s2 = 0.f;
#pragma omp simd reduction(+ : s2)
          for (int j = 0; j < n; j++) {
            const float d = z[j] - mu;
            xh[j] = d;
            s2 += d * d;
          }
          const float rs = 1.0f / std::sqrt(s2 / float(n) + LN_EPS);
          hc.rstd[r] = rs;
          for (int j = 0; j < n; j++) {
            xh[j] *= rs;
            z[j] = xh[j] * g[j] + be[j];
          }
        }
        if (c.act == RELU) {
          for (int j = 0; j < n; j++) h[j] = std::max(z[j], 0.0f);
        } else if (c.act == MISH) {
          float* t = hc.aux.data() + size_t(r) * n;
          for (int j = 0; j < n; j++) {
            t[j] = mishT(z[j]);
            h[j] = z[j] * t[j];
          }
        } else {
          float* T = hc.aux.data() + size_t(r) * n;
          for (int j = 0; j < n; j++) {
            const float x = z[j];
            T[j] = vtanh(x * (x * x * (GELU_K * GELU_C) + GELU_K));
            h[j] = (x * 0.5f) * (T[j] + 1.0f);
          }
        }
      }
    }
    in = H;
  }
  // Output layer: out = h·W + b (one unit, as Q and V: a GEMV).
  const Layer& o = net.layers[L - 1];
  if (o.out == 1) {
    SGEMV(CblasRowMajor, CblasNoTrans, R, o.in, 1.0f, in, o.in, base + o.oW, 1, 0.0f, p.out.data(), 1);
    const float b = base[o.ob];
    for (int r = 0; r < R; r++) p.out[r] += b;
  } else {
    matmul(in, base + o.oW, p.out.data(), R, o.in, o.out);
    const float* b = base + o.ob;
    for (int r = 0; r < R; r++) {
      float* z = p.out.data() + size_t(r) * o.out;
      for (int j = 0; j < o.out; j++) z[j] += b[j];
    }
  }
}

// In place: dL/dh (da) of hidden layer j → dL/dz, for R rows; accumulates the layer's bias
// gradient (and dγ, dβ with LayerNorm) into grad. One pass per row.
void hiddenBackward(float* da, const Hidden& hc, const Layer& ly, const float* base, float* grad, int R, const Arch& c) {
  const int n = ly.out;
  float* db = grad + ly.ob;
  std::fill(db, db + n, 0.f);
  float* dg = c.layerNorm ? grad + ly.og : nullptr;
  float* dbe = c.layerNorm ? grad + ly.obe : nullptr;
  if (c.layerNorm) {
    std::fill(dg, dg + n, 0.f);
    std::fill(dbe, dbe + n, 0.f);
  }
  for (int r = 0; r < R; r++) {
    float* d = da + size_t(r) * n;
    const size_t o = size_t(r) * n;
    // activation': dn = dh ⊙ act'(n)
    if (c.act == RELU) {
      const float* h = hc.h.data() + o;
      for (int j = 0; j < n; j++) d[j] = h[j] > 0.f ? d[j] : 0.f;
    } else if (c.act == MISH) {
      const float* x = hc.pre.data() + o;
      const float* t = hc.aux.data() + o;
      for (int j = 0; j < n; j++) d[j] *= t[j] + x[j] * (1.0f - t[j] * t[j]) * sigmoid(x[j]);
    } else {
      const float* x = hc.pre.data() + o;
      const float* T = hc.aux.data() + o;
      for (int j = 0; j < n; j++) {
        const float dInner = x[j] * x[j] * (3.0f * GELU_K * GELU_C) + GELU_K;
        d[j] *= (T[j] + 1.0f) * 0.5f + (x[j] * 0.5f) * (1.0f - T[j] * T[j]) * dInner;
      }
    }
    if (c.layerNorm) {
      // dγ = Σ dn ⊙ x̂, dβ = Σ dn; g = dn ⊙ γ; dz = r ⊙ (g − mean g − x̂ ⊙ mean(g ⊙ x̂))
      const float* xh = hc.xhat.data() + o;
      const float* gam = base + ly.og;
      float sg = 0.f, sgx = 0.f;
#pragma omp simd reduction(+ : sg, sgx)
      for (int j = 0; j < n; j++) {
        dg[j] += d[j] * xh[j];
        dbe[j] += d[j];
        const float gx = d[j] * gam[j];
        d[j] = gx;
        sg += gx;
        sgx += gx * xh[j];
      }
      const float mg = sg / float(n), mgx = sgx / float(n), rs = hc.rstd[r];
      for (int j = 0; j < n; j++) d[j] = (d[j] - mg - xh[j] * mgx) * rs;
    }
    for (int j = 0; j < n; j++) db[j] += d[j];
  }
}

// Backward of one net from dL/d(out) [R] into grad (θ's layout); X: the net's input rows.
void backward(const Net& net, const float* base, const float* X, const Pass& p, const float* dy, int R, const Arch& c, float* grad,
              std::vector<float>& da, std::vector<float>& gbuf) {
  const int L = int(net.layers.size());
  const Layer& o = net.layers[L - 1];
  const float* aL = L > 1 ? p.hidden[L - 2].h.data() : X;
  // output layer: dW = aᵀ·dy, db = Σ dy
  SGEMV(CblasRowMajor, CblasTrans, R, o.in, 1.0f, aL, o.in, dy, 1, 0.0f, grad + o.oW, 1);
  float sb = 0.f;
  for (int r = 0; r < R; r++) sb += dy[r];
  grad[o.ob] = sb;
  if (L == 1) return;
  // dL/dh of the last hidden layer: dy ⊗ w
  {
    const float* w = base + o.oW;
    const int n = o.in;
    for (int r = 0; r < R; r++) {
      float* d = gbuf.data() + size_t(r) * n;
      for (int j = 0; j < n; j++) d[j] = dy[r] * w[j];
    }
  }
  float* g = gbuf.data();
  for (int l = L - 2; l >= 0; l--) {
    const Layer& ly = net.layers[l];
    hiddenBackward(g, p.hidden[l], ly, base, grad, R, c);
    const float* a = l > 0 ? p.hidden[l - 1].h.data() : X;
    // dW = aᵀ·g
    SGEMM(CblasRowMajor, CblasTrans, CblasNoTrans, ly.in, ly.out, R, 1.0f, a, ly.in, g, ly.out, 0.0f, grad + ly.oW, ly.out);
    if (l > 0) {
      // dL/da = g·Wᵀ
      float* dst = (g == gbuf.data()) ? da.data() : gbuf.data();
      SGEMM(CblasRowMajor, CblasNoTrans, CblasTrans, R, ly.in, ly.out, 1.0f, g, ly.out, base + ly.oW, ly.out, 0.0f, dst, ly.in);
      g = dst;
    }
  }
}

struct StepMetrics {
  double q1Loss = 0, q2Loss = 0, vLoss = 0, meanQ = 0, meanV = 0, advMean = 0, advStd = 0, advMax = -INFINITY;
};

void oneStep(Kernel& k, const int32_t* idx, float* theta, float* m1, float* v1, float* target, int64_t t, StepMetrics& acc) {
  const Config& c = k.c;
  const int B = c.B, od = c.obsDim, ind = c.obsDim + c.actDim;
  // gather: sa [B, obs+act]; svs = [s; s'] [2B, obs]; r, γ(1 − d)
  for (int i = 0; i < B; i++) {
    const int64_t j = idx[i];
    std::memcpy(k.sa.data() + size_t(i) * ind, k.obsAct.data() + j * ind, sizeof(float) * ind);
    std::memcpy(k.svs.data() + size_t(i) * od, k.obs.data() + j * od, sizeof(float) * od);
    std::memcpy(k.svs.data() + size_t(B + i) * od, k.nextObs.data() + j * od, sizeof(float) * od);
    k.r[i] = k.reward[j];
    k.m[i] = k.mask[j];
  }
  // L_V: V(s) on the target nets' min Q; y = r + γ(1 − d)·V(s') (V before this update)
  forward(k.q1, target, k.sa.data(), B, c, k.pt);
  std::vector<float>& qt = k.qt;
  std::copy(k.pt.out.begin(), k.pt.out.end(), qt.begin());
  forward(k.q2, target, k.sa.data(), B, c, k.pt);
  for (int i = 0; i < B; i++) qt[i] = std::min(qt[i], k.pt.out[i]);
  forward(k.v, theta, k.svs.data(), 2 * B, c, k.pv);
  forward(k.q1, theta, k.sa.data(), B, c, k.pq1);
  forward(k.q2, theta, k.sa.data(), B, c, k.pq2);

  const float tau = c.expectile, inv = 2.0f / float(B), ninv = -2.0f / float(B);
  double l1 = 0, l2 = 0, lv = 0, mq = 0, mv = 0, su = 0, mx = -INFINITY;
  std::vector<float>& u = k.u;
  for (int i = 0; i < B; i++) {
    const float vs = k.pv.out[i], vn = k.pv.out[B + i];
    const float y = k.r[i] + k.m[i] * vn;
    const float e1 = k.pq1.out[i] - y, e2 = k.pq2.out[i] - y;
    k.dq1[i] = e1 * inv;
    k.dq2[i] = e2 * inv;
    l1 += double(e1) * e1;
    l2 += double(e2) * e2;
    const float ui = qt[i] - vs;
    const float wu = ui > 0.f ? tau * ui : (1.0f - tau) * ui;
    k.dv[i] = wu * ninv;
    lv += double(wu) * ui;
    mq += std::min(k.pq1.out[i], k.pq2.out[i]);
    mv += vs;
    u[i] = ui;
    su += ui;
    mx = std::max(mx, double(ui));
  }
  const double am = su / B;
  double var = 0;
  for (int i = 0; i < B; i++) var += (u[i] - am) * (u[i] - am);
  acc.q1Loss += l1 / B;
  acc.q2Loss += l2 / B;
  acc.vLoss += lv / B;
  acc.meanQ += mq / B;
  acc.meanV += mv / B;
  acc.advMean += am;
  acc.advStd += std::sqrt(var / B);
  acc.advMax = std::max(acc.advMax, mx);

  // Backward into one gradient vector in θ's layout (the three nets' parameters are disjoint).
  float* grad = k.grad.data();
  backward(k.q1, theta, k.sa.data(), k.pq1, k.dq1.data(), B, c, grad, k.da, k.db);
  backward(k.q2, theta, k.sa.data(), k.pq2, k.dq2.data(), B, c, grad, k.da, k.db);
  backward(k.v, theta, k.svs.data(), k.pv, k.dv.data(), B, c, grad, k.da, k.db);

  // Adam (FlatAdam: m̂/(√v̂ + ε) = m·(√bc2/bc1)/(√v + ε·√bc2)), then Polyak on the twins' block.
  const double bc1 = 1.0 - std::pow(double(c.beta1), double(t));
  const double bc2 = 1.0 - std::pow(double(c.beta2), double(t));
  const double sbc2 = std::sqrt(bc2);
  const float epsS = float(double(c.eps) * sbc2);
  const float stepS = float(double(c.lr) * sbc2 / bc1);
  const float b1 = c.beta1, c1 = float(1.0 - double(c.beta1)), b2 = c.beta2, c2 = float(1.0 - double(c.beta2));
  const float ptau = c.tau;
  const int64_t P = c.P, qEnd = c.qEnd;
  for (int64_t i = 0; i < P; i++) {
    const float g = grad[i];
    const float mm = b1 * m1[i] + c1 * g;
    const float vv = b2 * v1[i] + c2 * (g * g);
    m1[i] = mm;
    v1[i] = vv;
    float delta = (mm / (std::sqrt(vv) + epsS)) * stepS;
    if (i >= c.vStart) delta *= c.lrScaleV;
    theta[i] -= delta;
  }
  for (int64_t i = 0; i < qEnd; i++) target[i] += (theta[i] - target[i]) * ptau;
}

// ================================================================================================
// Policy extraction from a frozen critic (src/rl/algos/extract.ts): one actor step per minibatch for
// awr (Gaussian head), ddpg(+BC) and awr-discrete. The actor's parameters, Adam's m and v are the
// caller's Float32Arrays in extract.ts's layout ([pi MLP | log σ (awr)]); the frozen critic (target
// Q1, Q2 and V) is a flat copy made at creation. The learning rate of each step comes from JS (the
// cosine / constant schedule is defined once, in extract.ts).

enum Method { AWR = 0, DDPG = 1, DISCRETE = 2 };
enum QRed { QMIN = 0, QMEAN = 1, QQ1 = 2 };

struct Ex {
  int method, obsDim, actDim, B, outDim, bins, qReduce;
  Arch aa, ca;  // the actor's and the critic's architecture
  bool qNormalize;
  float beta, maxWeight, lsMin, lsMax, bcAlpha;
  double beta1, beta2, eps;
  int64_t P, oLogStd;  // θ's length, log σ's offset (-1: none)
  Net actor, q1, q2, v;
  std::vector<float> critic, cgrad;
  int64_t N;
  std::vector<float> obs, act, centers, weights;  // weights: per dataset row when precomputed, else empty
  std::vector<int32_t> bin;
  // scratch
  std::vector<float> s, a, sa, w, dout, grad, gA, gB, dx1, dx2, q;
  Pass pa, pq1, pq2, pv;
};

// Backward of one net from dL/d(out) [R, outDim]: the parameter gradients into grad (the net's
// layout) when paramGrads, and dL/dX into dx [R, in] when dx is not null. Without paramGrads grad
// is still written: hiddenBackward's bias/γ/β row sums go there (a scratch buffer).
void backwardG(const Net& net, const float* base, const float* X, const Pass& p, const float* dy, int R, const Arch& c, float* grad,
               bool paramGrads, float* dx, std::vector<float>& ga, std::vector<float>& gb) {
  const int L = int(net.layers.size());
  const Layer& o = net.layers[L - 1];
  const float* aL = L > 1 ? p.hidden[L - 2].h.data() : X;
  if (paramGrads) {
    // dW = aᵀ·dy, db = Σ_rows dy
    SGEMM(CblasRowMajor, CblasTrans, CblasNoTrans, o.in, o.out, R, 1.0f, aL, o.in, dy, o.out, 0.0f, grad + o.oW, o.out);
    float* db = grad + o.ob;
    std::fill(db, db + o.out, 0.f);
    for (int r = 0; r < R; r++)
      for (int j = 0; j < o.out; j++) db[j] += dy[size_t(r) * o.out + j];
  }
  // dL/d(input of the output layer) = dy·Wᵀ
  float* g = L > 1 ? gb.data() : dx;
  if (g) SGEMM(CblasRowMajor, CblasNoTrans, CblasTrans, R, o.in, o.out, 1.0f, dy, o.out, base + o.oW, o.out, 0.0f, g, o.in);
  if (L == 1) return;
  for (int l = L - 2; l >= 0; l--) {
    const Layer& ly = net.layers[l];
    hiddenBackward(g, p.hidden[l], ly, base, grad, R, c);
    const float* xin = l > 0 ? p.hidden[l - 1].h.data() : X;
    if (paramGrads) SGEMM(CblasRowMajor, CblasTrans, CblasNoTrans, ly.in, ly.out, R, 1.0f, xin, ly.in, g, ly.out, 0.0f, grad + ly.oW, ly.out);
    if (l > 0 || dx) {
      // dL/d(this layer's input) = dz·Wᵀ
      float* next = l == 0 ? dx : (g == gb.data() ? ga.data() : gb.data());
      SGEMM(CblasRowMajor, CblasNoTrans, CblasTrans, R, ly.in, ly.out, 1.0f, g, ly.out, base + ly.oW, ly.out, 0.0f, next, ly.in);
      g = next;
    }
  }
}

// AWR weights min(exp(β·(min(Q1, Q2)(s, a) − V(s))), maxWeight) of R rows sa = [s | a], s.
void awrWeightsOf(const Ex& e, const float* sa, const float* s, int R, Pass& p1, Pass& p2, Pass& pv, float* w) {
  const float* cb = e.critic.data();
  forward(e.q1, cb, sa, R, e.ca, p1);
  forward(e.q2, cb, sa, R, e.ca, p2);
  forward(e.v, cb, s, R, e.ca, pv);
  for (int i = 0; i < R; i++) {
    const float adv = std::min(p1.out[i], p2.out[i]) - pv.out[i];
    w[i] = std::min(vexp(adv * e.beta), e.maxWeight);
  }
}

void gatherSa(const Ex& e, const int32_t* rows, int R, const float* actOverride, float* sa) {
  const int od = e.obsDim, ad = e.actDim, w = od + ad;
  for (int i = 0; i < R; i++) {
    const int64_t j = rows ? rows[i] : i;
    std::memcpy(sa + size_t(i) * w, e.obs.data() + j * od, sizeof(float) * od);
    std::memcpy(sa + size_t(i) * w + od, actOverride ? actOverride + size_t(i) * ad : e.act.data() + j * ad, sizeof(float) * ad);
  }
}

// Every dataset row's weight, in chunks through the frozen critic.
void precomputeWeights(Ex& e) {
  const int chunk = 1024, od = e.obsDim;
  std::vector<int> qs, vs;
  for (const Layer& l : e.q1.layers) qs.push_back(l.in);
  qs.push_back(1);
  vs = qs;
  vs[0] = od;
  Pass p1, p2, pv;
  allocPass(p1, qs, chunk, e.ca);
  allocPass(p2, qs, chunk, e.ca);
  allocPass(pv, vs, chunk, e.ca);
  std::vector<float> sa(size_t(chunk) * (od + e.actDim));
  e.weights.assign(e.N, 0.f);
  for (int64_t start = 0; start < e.N; start += chunk) {
    const int R = int(std::min<int64_t>(chunk, e.N - start));
    for (int i = 0; i < R; i++) {
      std::memcpy(sa.data() + size_t(i) * (od + e.actDim), e.obs.data() + (start + i) * od, sizeof(float) * od);
      std::memcpy(sa.data() + size_t(i) * (od + e.actDim) + od, e.act.data() + (start + i) * e.actDim, sizeof(float) * e.actDim);
    }
    awrWeightsOf(e, sa.data(), e.obs.data() + start * od, R, p1, p2, pv, e.weights.data() + start);
  }
}

constexpr double HALF_LOG_2PI = 0.91893853320467274178;     // ½ log 2π
constexpr double HALF_LOG_2PIE = 1.41893853320467274178;    // ½ log 2πe

// One actor step on rows idx at learning rate lr; adds the METRIC_KEYS vector of extract.ts to acc.
void exStep(Ex& e, const int32_t* idx, double lr, float* theta, float* m1, float* v1, int64_t t, double* acc) {
  const int B = e.B, od = e.obsDim, ad = e.actDim, K = e.bins, D = e.outDim;
  const float invB = 1.0f / float(B);
  for (int i = 0; i < B; i++) {
    const int64_t j = idx[i];
    std::memcpy(e.s.data() + size_t(i) * od, e.obs.data() + j * od, sizeof(float) * od);
    std::memcpy(e.a.data() + size_t(i) * ad, e.act.data() + j * ad, sizeof(float) * ad);
  }
  float* w = e.w.data();
  if (e.method != DDPG) {
    if (!e.weights.empty()) {
      for (int i = 0; i < B; i++) w[i] = e.weights[idx[i]];
    } else {
      gatherSa(e, idx, B, nullptr, e.sa.data());
      awrWeightsOf(e, e.sa.data(), e.s.data(), B, e.pq1, e.pq2, e.pv, w);
    }
  }
  forward(e.actor, theta, e.s.data(), B, e.aa, e.pa);
  const float* out = e.pa.out.data();
  float* dout = e.dout.data();
  float* grad = e.grad.data();
  double m[7] = {0, 0, 0, 0, 0, 0, 0};
  const double nan = std::nan("");
  auto weightStats = [&](double& sumW, double& clipped) {
    sumW = 0;
    clipped = 0;
    for (int i = 0; i < B; i++) {
      sumW += w[i];
      clipped += w[i] >= e.maxWeight ? 1.0 : 0.0;
    }
  };
  if (e.method == AWR) {
    // μ = tanh(o), log σ = clip(ℓ); dL/do = −(w/B)(a − μ)/σ² (1 − μ²); dL/dℓ = (Σw − Σ w z²)/B inside the clip
    const float* raw = theta + e.oLogStd;
    std::vector<float> ls(ad), inv2(ad);
    std::vector<double> wz2(ad, 0.0);
    for (int d = 0; d < ad; d++) {
      ls[d] = std::min(std::max(raw[d], e.lsMin), e.lsMax);
      inv2[d] = std::exp(-2.0f * ls[d]);
    }
    double sumW, clipped, bc = 0;
    weightStats(sumW, clipped);
    for (int i = 0; i < B; i++) {
      const float cw = w[i] * -invB;
      for (int d = 0; d < ad; d++) {
        const size_t o = size_t(i) * ad + d;
        const float mu = std::tanh(out[o]);
        const float diff = e.a[o] - mu;
        const float dI = diff * inv2[d];
        dout[o] = (dI * cw) * (1.0f - mu * mu);
        wz2[d] += double(diff) * dI * w[i];
        bc += double(diff) * diff;
      }
    }
    double swz2 = 0, sls = 0, sstd = 0, ent = 0;
    for (int d = 0; d < ad; d++) {
      const bool in = raw[d] >= e.lsMin && raw[d] <= e.lsMax;
      grad[e.oLogStd + d] = in ? float((sumW - wz2[d]) / B) : 0.0f;
      swz2 += wz2[d];
      sls += ls[d] + HALF_LOG_2PI;
      sstd += std::exp(double(ls[d]));
      ent += ls[d] + HALF_LOG_2PIE;
    }
    m[0] = (0.5 * swz2 + sumW * sls) / B;
    m[1] = sstd / ad;
    m[2] = ent;
    m[3] = sumW / B;
    m[4] = clipped / B;
    m[5] = nan;
    m[6] = bc / B;
  } else if (e.method == DDPG) {
    // π = tanh(o); Q(s, π) through the frozen critic and ∂Q/∂π by its input gradient
    const int w2 = od + ad;
    float* pi = e.q.data() + B;  // [B, ad] after q [B]
    for (int i = 0; i < B * ad; i++) pi[i] = std::tanh(out[i]);
    gatherSa(e, idx, B, pi, e.sa.data());
    const float* cb = e.critic.data();
    forward(e.q1, cb, e.sa.data(), B, e.ca, e.pq1);
    if (e.qReduce != QQ1) forward(e.q2, cb, e.sa.data(), B, e.ca, e.pq2);
    float* q = e.q.data();
    float* d1 = e.w.data();  // the twins' dq/dQ_k (w is unused by ddpg)
    std::vector<float> d2(B);
    for (int i = 0; i < B; i++) {
      const float a1 = e.pq1.out[i];
      if (e.qReduce == QQ1) {
        q[i] = a1;
        d1[i] = 1.f;
      } else {
        const float a2 = e.pq2.out[i];
        if (e.qReduce == QMIN) {
          d1[i] = a1 <= a2 ? 1.f : 0.f;  // ties to Q1, as tfjs's minimum gradient
          q[i] = std::min(a1, a2);
        } else {
          d1[i] = 0.5f;
          q[i] = (a1 + a2) * 0.5f;
        }
        d2[i] = 1.f - d1[i];
      }
    }
    float* cg = e.cgrad.data();
    backwardG(e.q1, cb, e.sa.data(), e.pq1, d1, B, e.ca, cg, false, e.dx1.data(), e.gA, e.gB);
    if (e.qReduce != QQ1) backwardG(e.q2, cb, e.sa.data(), e.pq2, d2.data(), B, e.ca, cg, false, e.dx2.data(), e.gA, e.gB);
    double sq = 0, saq = 0, bc = 0;
    for (int i = 0; i < B; i++) {
      sq += q[i];
      saq += std::fabs(q[i]);
    }
    // −λ/B, λ = 1 or 1/mean_b |Q| (a constant of the step)
    const float qCoef = e.qNormalize ? float(-1.0 / B) / float(saq / B) : -invB;
    const float bcC = 2.0f * e.bcAlpha / float(B);
    for (int i = 0; i < B; i++) {
      for (int d = 0; d < ad; d++) {
        const size_t o = size_t(i) * ad + d;
        float dq = e.dx1[size_t(i) * w2 + od + d];
        if (e.qReduce != QQ1) dq += e.dx2[size_t(i) * w2 + od + d];
        const float diff = pi[o] - e.a[o];
        float dPi = dq * qCoef;
        if (e.bcAlpha != 0.f) dPi += diff * bcC;
        dout[o] = dPi * (1.0f - pi[o] * pi[o]);
        bc += double(diff) * diff;
      }
    }
    const double meanQ = sq / B, bcMse = bc / B;
    m[0] = (e.qNormalize ? sq * qCoef : -meanQ) + (e.bcAlpha != 0.f ? e.bcAlpha * bcMse : 0.0);
    m[1] = 0;
    m[2] = nan;
    m[3] = nan;
    m[4] = nan;
    m[5] = meanQ;
    m[6] = bcMse;
  } else {
    // factorised categorical: dL/do = (w/B)(softmax(o) − onehot(bin))
    double sumW, clipped, loss = 0, sstd = 0, ent = 0, bc = 0;
    weightStats(sumW, clipped);
    std::vector<float> lp(K);
    for (int i = 0; i < B; i++) {
      const float cw = w[i] * invB;
      for (int d = 0; d < ad; d++) {
        const float* o = out + size_t(i) * D + size_t(d) * K;
        float* g = dout + size_t(i) * D + size_t(d) * K;
        float mx = o[0];
        int arg = 0;
        for (int k = 1; k < K; k++)
          if (o[k] > mx) {
            mx = o[k];
            arg = k;
          }
        float se = 0.f;
        for (int k = 0; k < K; k++) se += std::exp(o[k] - mx);
        const float lse = std::log(se);
        const int b = e.bin[size_t(idx[i]) * ad + d];
        double m1c = 0, m2c = 0;
        for (int k = 0; k < K; k++) {
          lp[k] = (o[k] - mx) - lse;
          const float p = std::exp(lp[k]);
          g[k] = (p - (k == b ? 1.0f : 0.0f)) * cw;
          m1c += double(p) * e.centers[k];
          m2c += double(p) * e.centers[k] * e.centers[k];
          ent -= double(p) * lp[k];
        }
        loss -= double(w[i]) * lp[b];
        sstd += std::sqrt(std::max(m2c - m1c * m1c, 0.0));
        const double dm = double(e.centers[arg]) - e.a[size_t(i) * ad + d];
        bc += dm * dm;
      }
    }
    m[0] = loss / B;
    m[1] = sstd / (double(B) * ad);
    m[2] = ent / B;
    m[3] = sumW / B;
    m[4] = clipped / B;
    m[5] = nan;
    m[6] = bc / B;
  }
  backwardG(e.actor, theta, e.s.data(), e.pa, dout, B, e.aa, grad, true, nullptr, e.gA, e.gB);
  // Adam as FlatAdam: m̂/(√v̂ + ε) = m·(√bc2/bc1)/(√v + ε·√bc2)
  const double bc1 = 1.0 - std::pow(e.beta1, double(t));
  const double bc2 = 1.0 - std::pow(e.beta2, double(t));
  const double sbc2 = std::sqrt(bc2);
  const float epsS = float(e.eps * sbc2);
  const float stepS = float(lr * sbc2 / bc1);
  const float b1 = float(e.beta1), c1 = float(1.0 - e.beta1), b2 = float(e.beta2), c2 = float(1.0 - e.beta2);
  for (int64_t i = 0; i < e.P; i++) {
    const float gi = grad[i];
    const float mm = b1 * m1[i] + c1 * gi;
    const float vv = b2 * v1[i] + c2 * (gi * gi);
    m1[i] = mm;
    v1[i] = vv;
    theta[i] -= (mm / (std::sqrt(vv) + epsS)) * stepS;
  }
  for (int k = 0; k < 7; k++) acc[k] += m[k];
}

// ------------------------------------------------------------------------------------------------
// N-API glue

#define NAPI_CALL(env, call)                                          \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      const napi_extended_error_info* info;                           \
      napi_get_last_error_info((env), &info);                         \
      bool pending;                                                   \
      napi_is_exception_pending((env), &pending);                     \
      if (!pending)                                                   \
        napi_throw_error((env), nullptr, info && info->error_message  \
                                             ? info->error_message    \
                                             : "iql-kernel: N-API call failed"); \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

napi_value throwError(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, ("iql-kernel: " + msg).c_str());
  return nullptr;
}

template <typename T>
bool typedArray(napi_env env, napi_value v, napi_typedarray_type want, T** data, size_t* len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* d;
  if (napi_get_typedarray_info(env, v, &type, len, &d, nullptr, nullptr) != napi_ok || type != want) return false;
  *data = static_cast<T*>(d);
  return true;
}

napi_value prop(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return nullptr;
  return v;
}

// The JS handle: an external holding the kernel until dispose() or garbage collection.
struct Holder {
  Kernel* k;
};

void finalizeKernel(napi_env, void* data, void*) {
  auto h = static_cast<Holder*>(data);
  delete h->k;
  delete h;
}

// The holder behind a handle made by Create or ExCreate (nullptr when v is not one).
template <class H>
H* handleOf(napi_env env, napi_value v) {
  void* d = nullptr;
  if (napi_get_value_external(env, v, &d) != napi_ok || !d) return nullptr;
  return static_cast<H*>(d);
}

// create({ ints: Int32Array, floats: Float64Array, layout: Float64Array, obsAct, obs, nextObs, reward, mask })
//   ints   = [obsDim, actDim, B, activation (0 relu, 1 mish, 2 gelu), layerNorm, nQSizes, ...qSizes]
//   floats = [targetTau, expectile, beta1, beta2, eps, criticLr, valueLr/criticLr]
//   layout = [P, qEnd, vStart, then per net q1, q2, v and per linear layer: oW, ob, og, obe]
napi_value Create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr));
  if (argc < 1) return throwError(env, "create needs a spec object");
  int32_t* ints;
  double* fl;
  double* lay;
  size_t ni, nf, nl;
  if (!typedArray(env, prop(env, arg, "ints"), napi_int32_array, &ints, &ni) || ni < 6) return throwError(env, "spec.ints must be an Int32Array");
  if (!typedArray(env, prop(env, arg, "floats"), napi_float64_array, &fl, &nf) || nf < 7) return throwError(env, "spec.floats must be a Float64Array of 7");
  if (!typedArray(env, prop(env, arg, "layout"), napi_float64_array, &lay, &nl)) return throwError(env, "spec.layout must be a Float64Array");
  auto k = new Kernel();
  Config& c = k->c;
  c.obsDim = ints[0];
  c.actDim = ints[1];
  c.B = ints[2];
  c.act = ints[3];
  c.layerNorm = ints[4] != 0;
  const int ns = ints[5];
  if (ni != size_t(6 + ns) || ns < 2 || c.act < 0 || c.act > 2 || c.B < 1) {
    delete k;
    return throwError(env, "bad spec.ints");
  }
  c.qSizes.assign(ints + 6, ints + 6 + ns);
  if (c.qSizes[0] != c.obsDim + c.actDim || c.qSizes.back() != 1) {
    delete k;
    return throwError(env, "Q sizes must run from obsDim + actDim to 1");
  }
  c.tau = float(fl[0]);
  c.expectile = float(fl[1]);
  c.beta1 = float(fl[2]);
  c.beta2 = float(fl[3]);
  c.eps = float(fl[4]);
  c.lr = float(fl[5]);
  c.lrScaleV = float(fl[6]);
  const int L = ns - 1;
  if (nl != size_t(3 + 3 * 4 * L)) {
    delete k;
    return throwError(env, "bad spec.layout length");
  }
  c.P = int64_t(lay[0]);
  c.qEnd = int64_t(lay[1]);
  c.vStart = int64_t(lay[2]);
  Net* nets[3] = {&k->q1, &k->q2, &k->v};
  for (int n = 0; n < 3; n++) {
    for (int l = 0; l < L; l++) {
      const double* o = lay + 3 + (n * L + l) * 4;
      const int in = l == 0 ? (n == 2 ? c.obsDim : c.obsDim + c.actDim) : c.qSizes[l];
      const int out = c.qSizes[l + 1];
      const Layer ly{in, out, int64_t(o[0]), int64_t(o[1]), int64_t(o[2]), int64_t(o[3])};
      const int64_t hi = std::max({ly.oW + int64_t(in) * out, ly.ob + out, ly.og + out, ly.obe + out});
      if (ly.oW < 0 || ly.ob < 0 || hi > c.P || (c.layerNorm && l < L - 1 && (ly.og < 0 || ly.obe < 0))) {
        delete k;
        return throwError(env, "layout offsets out of range");
      }
      nets[n]->layers.push_back(ly);
    }
  }
  // dataset
  const char* names[5] = {"obsAct", "obs", "nextObs", "reward", "mask"};
  const int widths[5] = {c.obsDim + c.actDim, c.obsDim, c.obsDim, 1, 1};
  std::vector<float>* dst[5] = {&k->obsAct, &k->obs, &k->nextObs, &k->reward, &k->mask};
  size_t N = 0;
  for (int i = 0; i < 5; i++) {
    float* d;
    size_t len;
    if (!typedArray(env, prop(env, arg, names[i]), napi_float32_array, &d, &len) || len % widths[i] != 0) {
      delete k;
      return throwError(env, std::string("spec.") + names[i] + " must be a Float32Array of whole rows");
    }
    if (i == 0) N = len / widths[i];
    if (len / widths[i] != N) {
      delete k;
      return throwError(env, std::string("spec.") + names[i] + " has a different row count");
    }
    dst[i]->assign(d, d + len);
  }
  k->N = int64_t(N);
  const int B = c.B;
  const int wmax = *std::max_element(c.qSizes.begin(), c.qSizes.end());
  k->sa.assign(size_t(B) * (c.obsDim + c.actDim), 0.f);
  k->svs.assign(size_t(2 * B) * c.obsDim, 0.f);
  for (auto* b : {&k->r, &k->m, &k->qt, &k->u, &k->dq1, &k->dq2, &k->dv}) b->assign(B, 0.f);
  k->grad.assign(size_t(c.P), 0.f);
  k->da.assign(size_t(B) * wmax, 0.f);
  k->db.assign(size_t(B) * wmax, 0.f);
  std::vector<int> vSizes = c.qSizes;
  vSizes[0] = c.obsDim;
  allocPass(k->pt, c.qSizes, B, c);
  allocPass(k->pq1, c.qSizes, B, c);
  allocPass(k->pq2, c.qSizes, B, c);
  allocPass(k->pv, vSizes, 2 * B, c);
  napi_value ext;
  auto h = new Holder{k};
  if (napi_create_external(env, h, finalizeKernel, nullptr, &ext) != napi_ok) {
    delete k;
    delete h;
    return throwError(env, "cannot create the kernel handle");
  }
  return ext;
}

// step(kernel, indices: Int32Array (n·B), n, theta, m, v, target: Float32Array, adamT) → Float64Array(8)
//   metrics: q1Loss, q2Loss, vLoss, meanQ, meanV, advMean, advStd (means over the n steps), advMax
napi_value Step(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value a[8];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  if (argc < 8) return throwError(env, "step(kernel, indices, n, theta, m, v, target, adamT)");
  Holder* h = handleOf<Holder>(env, a[0]);
  if (!h) return throwError(env, "step: not a kernel handle");
  if (!h->k) return throwError(env, "step: the kernel was disposed");
  Kernel* k = h->k;
  int32_t* idx;
  size_t nidx;
  if (!typedArray(env, a[1], napi_int32_array, &idx, &nidx)) return throwError(env, "indices must be an Int32Array");
  int32_t n;
  NAPI_CALL(env, napi_get_value_int32(env, a[2], &n));
  const Config& c = k->c;
  if (n < 1 || nidx != size_t(n) * c.B) return throwError(env, "indices must hold n·batchSize rows");
  for (size_t i = 0; i < nidx; i++)
    if (idx[i] < 0 || idx[i] >= k->N) return throwError(env, "minibatch index out of range");
  float* st[4];
  size_t len[4];
  for (int i = 0; i < 4; i++)
    if (!typedArray(env, a[3 + i], napi_float32_array, &st[i], &len[i])) return throwError(env, "theta, m, v, target must be Float32Arrays");
  if (len[0] != size_t(c.P) || len[1] != size_t(c.P) || len[2] != size_t(c.P) || len[3] != size_t(c.qEnd))
    return throwError(env, "state vectors have the wrong length");
  double t0;
  NAPI_CALL(env, napi_get_value_double(env, a[7], &t0));
  StepMetrics acc;
  for (int s = 0; s < n; s++) oneStep(*k, idx + size_t(s) * c.B, st[0], st[1], st[2], st[3], int64_t(t0) + s + 1, acc);
  napi_value ab, out;
  double* o;
  NAPI_CALL(env, napi_create_arraybuffer(env, 8 * sizeof(double), reinterpret_cast<void**>(&o), &ab));
  o[0] = acc.q1Loss / n;
  o[1] = acc.q2Loss / n;
  o[2] = acc.vLoss / n;
  o[3] = acc.meanQ / n;
  o[4] = acc.meanV / n;
  o[5] = acc.advMean / n;
  o[6] = acc.advStd / n;
  o[7] = acc.advMax;
  NAPI_CALL(env, napi_create_typedarray(env, napi_float64_array, 8, ab, 0, &out));
  return out;
}

// dispose(kernel): frees the dataset copy and the scratch buffers now (not at garbage collection).
napi_value Dispose(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, &a, nullptr, nullptr));
  Holder* h = argc == 1 ? handleOf<Holder>(env, a) : nullptr;
  if (!h) return throwError(env, "dispose: not a kernel handle");
  delete h->k;
  h->k = nullptr;
  return nullptr;
}

// ------------------------------------------------------------------------------------------------
// Extraction: N-API glue

struct ExHolder {
  Ex* e;
};

void finalizeEx(napi_env, void* data, void*) {
  auto h = static_cast<ExHolder*>(data);
  delete h->e;
  delete h;
}

// Reads one net's layers from layout (4 offsets per linear layer) with sizes; false when out of range.
bool readNet(Net& net, const double* lay, const std::vector<int>& sizes, bool layerNorm, int64_t P) {
  const int L = int(sizes.size()) - 1;
  for (int l = 0; l < L; l++) {
    const double* o = lay + l * 4;
    const Layer ly{sizes[l], sizes[l + 1], int64_t(o[0]), int64_t(o[1]), int64_t(o[2]), int64_t(o[3])};
    const int64_t hi = std::max({ly.oW + int64_t(ly.in) * ly.out, ly.ob + ly.out, ly.og + ly.out, ly.obe + ly.out});
    if (ly.oW < 0 || ly.ob < 0 || hi > P || (layerNorm && l < L - 1 && (ly.og < 0 || ly.obe < 0))) return false;
    net.layers.push_back(ly);
  }
  return true;
}

// exCreate({ ints: Int32Array, floats: Float64Array, layout: Float64Array, critic, obs, act: Float32Array, bins: Int32Array, centers: Float32Array })
//   ints   = [method (0 awr, 1 ddpg, 2 awr-discrete), obsDim, actDim, B, bins, qReduce (0 min, 1 mean, 2 q1), qNormalize,
//             precomputeWeights, actor activation, actor layerNorm, critic activation, critic layerNorm,
//             nActorSizes, ...actorSizes, nQSizes, ...qSizes]
//   floats = [beta, maxWeight, logStdMin, logStdMax, bcAlpha, beta1, beta2, eps]
//   layout = [P, log σ offset (-1), actor layers' (oW, ob, og, obe), then q1's, q2's, v's into critic]
napi_value ExCreate(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr));
  if (argc < 1) return throwError(env, "exCreate needs a spec object");
  int32_t* ints;
  double *fl, *lay;
  size_t ni, nf, nl;
  if (!typedArray(env, prop(env, arg, "ints"), napi_int32_array, &ints, &ni) || ni < 14) return throwError(env, "spec.ints must be an Int32Array");
  if (!typedArray(env, prop(env, arg, "floats"), napi_float64_array, &fl, &nf) || nf < 8) return throwError(env, "spec.floats must be a Float64Array of 8");
  if (!typedArray(env, prop(env, arg, "layout"), napi_float64_array, &lay, &nl)) return throwError(env, "spec.layout must be a Float64Array");
  std::unique_ptr<Ex> ep(new Ex());
  Ex& e = *ep;
  e.method = ints[0];
  e.obsDim = ints[1];
  e.actDim = ints[2];
  e.B = ints[3];
  e.bins = ints[4];
  e.qReduce = ints[5];
  e.qNormalize = ints[6] != 0;
  const bool precompute = ints[7] != 0;
  e.aa = Arch{ints[8], ints[9] != 0};
  e.ca = Arch{ints[10], ints[11] != 0};
  const int na = ints[12];
  if (na < 2 || ni < size_t(14 + na)) return throwError(env, "bad spec.ints");
  std::vector<int> as(ints + 13, ints + 13 + na);
  const int nq = ints[13 + na];
  if (nq < 2 || ni != size_t(14 + na + nq)) return throwError(env, "bad spec.ints");
  std::vector<int> qs(ints + 14 + na, ints + 14 + na + nq);
  if (e.method < 0 || e.method > 2 || e.qReduce < 0 || e.qReduce > 2 || e.B < 1 || e.aa.act < 0 || e.aa.act > 2 || e.ca.act < 0 || e.ca.act > 2)
    return throwError(env, "bad spec.ints");
  e.outDim = e.method == DISCRETE ? e.actDim * e.bins : e.actDim;
  if (as[0] != e.obsDim || as.back() != e.outDim) return throwError(env, "actor sizes must run from obsDim to the head's width");
  if (qs[0] != e.obsDim + e.actDim || qs.back() != 1) return throwError(env, "Q sizes must run from obsDim + actDim to 1");
  e.beta = float(fl[0]);
  e.maxWeight = float(fl[1]);
  e.lsMin = float(fl[2]);
  e.lsMax = float(fl[3]);
  e.bcAlpha = float(fl[4]);
  e.beta1 = fl[5];
  e.beta2 = fl[6];
  e.eps = fl[7];
  const int La = na - 1, Lq = nq - 1;
  if (nl != size_t(2 + 4 * La + 3 * 4 * Lq)) return throwError(env, "bad spec.layout length");
  e.P = int64_t(lay[0]);
  e.oLogStd = int64_t(lay[1]);
  if ((e.method == AWR) != (e.oLogStd >= 0) || e.oLogStd + e.actDim > e.P) return throwError(env, "bad log std offset");
  if (!readNet(e.actor, lay + 2, as, e.aa.layerNorm, e.P)) return throwError(env, "actor layout offsets out of range");
  float* cp;
  size_t clen;
  if (!typedArray(env, prop(env, arg, "critic"), napi_float32_array, &cp, &clen)) return throwError(env, "spec.critic must be a Float32Array");
  std::vector<int> vs = qs;
  vs[0] = e.obsDim;
  if (!readNet(e.q1, lay + 2 + 4 * La, qs, e.ca.layerNorm, int64_t(clen)) || !readNet(e.q2, lay + 2 + 4 * La + 4 * Lq, qs, e.ca.layerNorm, int64_t(clen)) ||
      !readNet(e.v, lay + 2 + 4 * La + 8 * Lq, vs, e.ca.layerNorm, int64_t(clen)))
    return throwError(env, "critic layout offsets out of range");
  e.critic.assign(cp, cp + clen);
  e.cgrad.assign(clen, 0.f);
  float *o, *a;
  size_t lo, la;
  if (!typedArray(env, prop(env, arg, "obs"), napi_float32_array, &o, &lo) || lo % e.obsDim != 0) return throwError(env, "spec.obs must be a Float32Array of whole rows");
  e.N = int64_t(lo / e.obsDim);
  if (!typedArray(env, prop(env, arg, "act"), napi_float32_array, &a, &la) || la != size_t(e.N) * e.actDim) return throwError(env, "spec.act must hold N·actDim values");
  e.obs.assign(o, o + lo);
  e.act.assign(a, a + la);
  if (e.method == DISCRETE) {
    int32_t* b;
    float* c;
    size_t lb, lc;
    if (e.bins < 2 || !typedArray(env, prop(env, arg, "bins"), napi_int32_array, &b, &lb) || lb != la) return throwError(env, "spec.bins must hold N·actDim bin indices");
    if (!typedArray(env, prop(env, arg, "centers"), napi_float32_array, &c, &lc) || lc != size_t(e.bins)) return throwError(env, "spec.centers must hold the bin values");
    for (size_t i = 0; i < lb; i++)
      if (b[i] < 0 || b[i] >= e.bins) return throwError(env, "bin index out of range");
    e.bin.assign(b, b + lb);
    e.centers.assign(c, c + lc);
  }
  // scratch
  const int B = e.B, od = e.obsDim, ad = e.actDim;
  int wmax = std::max(*std::max_element(as.begin(), as.end()), *std::max_element(qs.begin(), qs.end()));
  e.s.assign(size_t(B) * od, 0.f);
  e.a.assign(size_t(B) * ad, 0.f);
  e.sa.assign(size_t(B) * (od + ad), 0.f);
  e.w.assign(B, 0.f);
  e.q.assign(size_t(B) * (1 + ad), 0.f);
  e.dout.assign(size_t(B) * e.outDim, 0.f);
  e.grad.assign(e.P, 0.f);
  e.gA.assign(size_t(B) * wmax, 0.f);
  e.gB.assign(size_t(B) * wmax, 0.f);
  e.dx1.assign(size_t(B) * (od + ad), 0.f);
  e.dx2.assign(size_t(B) * (od + ad), 0.f);
  allocPass(e.pa, as, B, e.aa);
  allocPass(e.pq1, qs, B, e.ca);
  allocPass(e.pq2, qs, B, e.ca);
  allocPass(e.pv, vs, B, e.ca);
  if (precompute && e.method != DDPG) precomputeWeights(e);
  napi_value ext;
  auto h = new ExHolder{ep.get()};
  if (napi_create_external(env, h, finalizeEx, nullptr, &ext) != napi_ok) {
    delete h;
    return throwError(env, "cannot create the extractor handle");
  }
  ep.release();
  return ext;
}

// exStep(handle, indices: Int32Array (n·B), n, lrs: Float64Array (n), theta, m, v: Float32Array, adamT) → Float64Array(7)
//   the means over the n steps of loss, policyStd, entropy, meanWeight, clippedFrac, meanQ, bcMse
napi_value ExStep(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value a[8];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  if (argc < 8) return throwError(env, "exStep(handle, indices, n, lrs, theta, m, v, adamT)");
  ExHolder* h = handleOf<ExHolder>(env, a[0]);
  if (!h) return throwError(env, "exStep: not an extractor handle");
  if (!h->e) return throwError(env, "exStep: the extractor was disposed");
  Ex& e = *h->e;
  int32_t* idx;
  size_t nidx;
  if (!typedArray(env, a[1], napi_int32_array, &idx, &nidx)) return throwError(env, "indices must be an Int32Array");
  int32_t n;
  NAPI_CALL(env, napi_get_value_int32(env, a[2], &n));
  if (n < 1 || nidx != size_t(n) * e.B) return throwError(env, "indices must hold n·batchSize rows");
  for (size_t i = 0; i < nidx; i++)
    if (idx[i] < 0 || idx[i] >= e.N) return throwError(env, "minibatch index out of range");
  double* lrs;
  size_t nlr;
  if (!typedArray(env, a[3], napi_float64_array, &lrs, &nlr) || nlr != size_t(n)) return throwError(env, "lrs must be a Float64Array of n");
  float* st[3];
  size_t len[3];
  for (int i = 0; i < 3; i++)
    if (!typedArray(env, a[4 + i], napi_float32_array, &st[i], &len[i]) || len[i] != size_t(e.P)) return throwError(env, "theta, m, v must be Float32Arrays of the parameter count");
  double t0;
  NAPI_CALL(env, napi_get_value_double(env, a[7], &t0));
  double acc[7] = {0, 0, 0, 0, 0, 0, 0};
  for (int s = 0; s < n; s++) exStep(e, idx + size_t(s) * e.B, lrs[s], st[0], st[1], st[2], int64_t(t0) + s + 1, acc);
  napi_value ab, out;
  double* o;
  NAPI_CALL(env, napi_create_arraybuffer(env, 7 * sizeof(double), reinterpret_cast<void**>(&o), &ab));
  for (int k = 0; k < 7; k++) o[k] = acc[k] / n;
  NAPI_CALL(env, napi_create_typedarray(env, napi_float64_array, 7, ab, 0, &out));
  return out;
}

// exSetCritic(handle, critic: Float32Array) → replaces the critic's weights (same layout and length as
// at creation) from the next step on: joint training, where the critic moves every step. Refused
// when the AWR weights were precomputed from the first critic.
napi_value ExSetCritic(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  ExHolder* h = argc == 2 ? handleOf<ExHolder>(env, a[0]) : nullptr;
  if (!h || !h->e) return throwError(env, "exSetCritic: not a live extractor handle");
  Ex& e = *h->e;
  if (!e.weights.empty()) return throwError(env, "exSetCritic: the AWR weights were precomputed from the first critic");
  float* cp;
  size_t clen;
  if (!typedArray(env, a[1], napi_float32_array, &cp, &clen) || clen != e.critic.size()) return throwError(env, "exSetCritic: the critic must be a Float32Array of the creation critic's length");
  std::memcpy(e.critic.data(), cp, clen * sizeof(float));
  return nullptr;
}

// exWeights(handle) → Float32Array of every dataset row's AWR weight, or null when not precomputed.
napi_value ExWeights(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, &a, nullptr, nullptr));
  ExHolder* h = argc == 1 ? handleOf<ExHolder>(env, a) : nullptr;
  if (!h || !h->e) return throwError(env, "exWeights: not a live extractor handle");
  napi_value out;
  if (h->e->weights.empty()) {
    NAPI_CALL(env, napi_get_null(env, &out));
    return out;
  }
  const size_t n = h->e->weights.size();
  napi_value ab;
  void* d;
  NAPI_CALL(env, napi_create_arraybuffer(env, n * sizeof(float), &d, &ab));
  std::memcpy(d, h->e->weights.data(), n * sizeof(float));
  NAPI_CALL(env, napi_create_typedarray(env, napi_float32_array, n, ab, 0, &out));
  return out;
}

napi_value ExDispose(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, &a, nullptr, nullptr));
  ExHolder* h = argc == 1 ? handleOf<ExHolder>(env, a) : nullptr;
  if (!h) return throwError(env, "exDispose: not an extractor handle");
  delete h->e;
  h->e = nullptr;
  return nullptr;
}

// info() → OpenBLAS core name and build configuration
napi_value Info(napi_env env, napi_callback_info) {
  std::string s = std::string(BLAS_CORENAME()) + " | " + BLAS_CONFIG();
  napi_value v;
  NAPI_CALL(env, napi_create_string_utf8(env, s.c_str(), s.size(), &v));
  return v;
}

}  // namespace

NAPI_MODULE_INIT() {
  BLAS_SET_THREADS(1);
  napi_property_descriptor props[] = {
      {"create", nullptr, Create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"step", nullptr, Step, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dispose", nullptr, Dispose, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"exCreate", nullptr, ExCreate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"exStep", nullptr, ExStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"exWeights", nullptr, ExWeights, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"exSetCritic", nullptr, ExSetCritic, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"exDispose", nullptr, ExDispose, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return nullptr;
  return exports;
}
