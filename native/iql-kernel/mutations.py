"""
Mutation check of the kernel's hand-written gradients and updates: applies each mutation below to
iql_kernel.cc in turn, rebuilds (scripts/build-kernel.sh) and runs the tests of the step it mutates
(the critic step's: dist/src/rl/algos/iql-kernel.test.js; the extraction step's, names 'ex …':
dist/src/rl/algos/extract-kernel.test.js); every mutation must make a test fail. Restores the source
and rebuilds at the end.
Usage (after npx tsc -p tsconfig.json): python3 native/iql-kernel/mutations.py [name ...]   (≈ 3 min + ≈ 4 min)
"""
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
src = os.path.join(ROOT, 'native/iql-kernel/iql_kernel.cc')
orig = open(src).read()
muts=[
 ('relu mask', 'd[j] = h[j] > 0.f ? d[j] : 0.f;', 'd[j] = h[j] > 0.f ? d[j] : d[j];'),
 ("mish'", 't[j] + x[j] * (1.0f - t[j] * t[j]) * sigmoid(x[j])', 't[j] + x[j] * (1.0f - t[j] * t[j])'),
 ("gelu'", '(1.0f - T[j] * T[j]) * dInner', '(1.0f - T[j]) * dInner'),
 ('LN dgamma', 'dg[j] += d[j] * xh[j];', 'dg[j] += d[j];'),
 ('LN dbeta', 'dbe[j] += d[j];', 'dbe[j] += d[j] * xh[j];'),
 ('LN dz', '(d[j] - mg - xh[j] * mgx) * rs', '(d[j] - mg) * rs'),
 ('LN dz scale', 'const float gx = d[j] * gam[j];', 'const float gx = d[j];'),
 ('hidden db', 'for (int j = 0; j < n; j++) db[j] += d[j];', 'for (int j = 0; j < n; j++) db[j] += 0.5f * d[j];'),
 ('output dW', 'R, o.in, 1.0f, aL, o.in, dy, 1', 'R, o.in, 0.5f, aL, o.in, dy, 1'),
 ('output db', 'sb += dy[r];', 'sb += std::fabs(dy[r]);'),
 ('output da', 'd[j] = dy[r] * w[j];', 'd[j] = dy[r];'),
 ('hidden dW', 'ly.in, ly.out, R, 1.0f, a, ly.in', 'ly.in, ly.out, R, 0.5f, a, ly.in'),
 ('hidden da', '1.0f, g, ly.out, base + ly.oW, ly.out, 0.0f, dst, ly.in', '0.5f, g, ly.out, base + ly.oW, ly.out, 0.0f, dst, ly.in'),
 ('expectile weight', 'ui > 0.f ? tau * ui : (1.0f - tau) * ui', 'ui > 0.f ? (1.0f - tau) * ui : tau * ui'),
 ('dV sign/scale', 'k.dv[i] = wu * ninv;', 'k.dv[i] = wu * inv;'),
 ('TD target uses V(s)', 'const float y = k.r[i] + k.m[i] * vn;', 'const float y = k.r[i] + k.m[i] * vs;'),
 ('TD grad scale', 'k.dq2[i] = e2 * inv;', 'k.dq2[i] = e2 * inv * 0.5f;'),
 ('Adam v', 'c2 * (g * g)', 'c2 * std::fabs(g)'),
 ('Adam bias correction', 'float(double(c.lr) * sbc2 / bc1)', 'float(double(c.lr) / bc1)'),
 ('Adam V lr', 'if (i >= c.vStart) delta *= c.lrScaleV;', ''),
 ('Polyak', '(theta[i] - target[i]) * ptau', '(theta[i] - target[i]) * (1.0f - ptau)'),
 ('LN forward eps', 's2 / float(n) + LN_EPS', 's2 / float(n) + 1e-3f'),
 # the extraction step (backwardG: the actor's backward and the frozen critic's input gradient)
 ('ex output dW', 'o.in, o.out, R, 1.0f, aL, o.in, dy, o.out', 'o.in, o.out, R, 0.5f, aL, o.in, dy, o.out'),
 ('ex output db', 'db[j] += dy[size_t(r) * o.out + j];', 'db[j] += 0.5f * dy[size_t(r) * o.out + j];'),
 ('ex output da', 'R, o.in, o.out, 1.0f, dy, o.out', 'R, o.in, o.out, 0.5f, dy, o.out'),
 ('ex hidden dW', 'R, 1.0f, xin, ly.in', 'R, 0.5f, xin, ly.in'),
 ('ex hidden da', '1.0f, g, ly.out, base + ly.oW, ly.out, 0.0f, next, ly.in', '0.5f, g, ly.out, base + ly.oW, ly.out, 0.0f, next, ly.in'),
 ('ex weights beta', 'vexp(adv * e.beta)', 'vexp(adv)'),
 ('ex weights clip', 'std::min(vexp(adv * e.beta), e.maxWeight)', 'vexp(adv * e.beta)'),
 ('ex AWR dOut tanh\'', 'dout[o] = (dI * cw) * (1.0f - mu * mu);', 'dout[o] = dI * cw;'),
 ('ex AWR 1/sigma^2', 'inv2[d] = std::exp(-2.0f * ls[d]);', 'inv2[d] = std::exp(-ls[d]);'),
 ('ex AWR dlogstd', 'float((sumW - wz2[d]) / B)', 'float((sumW - 0.5 * wz2[d]) / B)'),
 ('ex AWR logstd clip mask', 'grad[e.oLogStd + d] = in ?', 'grad[e.oLogStd + d] = true ?'),
 ('ex DDPG min twin', 'd1[i] = a1 <= a2 ? 1.f : 0.f;', 'd1[i] = 0.5f;'),
 ('ex DDPG mean twin', 'd1[i] = 0.5f;', 'd1[i] = 1.f;'),
 ('ex DDPG dq of Q2', 'dq += e.dx2[size_t(i) * w2 + od + d];', 'dq += 0.f;'),
 ('ex DDPG q_normalize', 'float(-1.0 / B) / float(saq / B)', 'float(-1.0 / B) / float(saq)'),
 ('ex DDPG bc', 'const float bcC = 2.0f * e.bcAlpha / float(B);', 'const float bcC = e.bcAlpha / float(B);'),
 ('ex DDPG tanh\'', 'dout[o] = dPi * (1.0f - pi[o] * pi[o]);', 'dout[o] = dPi;'),
 ('ex discrete weight', 'g[k] = (p - (k == b ? 1.0f : 0.0f)) * cw;', 'g[k] = (p - (k == b ? 1.0f : 0.0f)) * invB;'),
 ('ex discrete onehot', '(p - (k == b ? 1.0f : 0.0f))', '(p - (k == b ? 0.5f : 0.0f))'),
 ('ex discrete std', 'std::sqrt(std::max(m2c - m1c * m1c, 0.0))', 'std::sqrt(std::max(m2c, 0.0))'),
 ('ex entropy', 'ent += ls[d] + HALF_LOG_2PIE;', 'ent += ls[d] + HALF_LOG_2PI;'),
 ('ex Adam v', 'c2 * (gi * gi)', 'c2 * std::fabs(gi)'),
 ('ex Adam bias correction', 'float(lr * sbc2 / bc1)', 'float(lr / bc1)'),
 ('ex lr per step', 'e.B, lrs[s],', 'e.B, lrs[0],'),
]
only = sys.argv[1:]
res=[]
missed=0
try:
  for name,a,b in muts:
    if only and name not in only: continue
    assert orig.count(a)==1, name
    open(src,'w').write(orig.replace(a,b))
    tests = 'dist/src/rl/algos/extract-kernel.test.js' if name.startswith('ex ') else 'dist/src/rl/algos/iql-kernel.test.js'
    r=subprocess.run(f'FORCE=1 bash scripts/build-kernel.sh >/dev/null 2>&1 && node --test {tests} 2>&1', shell=True, cwd=ROOT, capture_output=True, text=True)
    out=r.stdout
    fails=[l for l in out.split('\n') if l.startswith('not ok')]
    msg=[l.strip() for l in out.split('\n') if 'error:' in l][:1]
    res.append((name, 'FAILS (caught)' if fails else 'passes (NOT caught)', [f[:60] for f in fails], msg))
    missed += 0 if fails else 1
    print(f"{name:24s} {'caught' if fails else 'NOT CAUGHT'}  {fails[0][:70] if fails else ''}", flush=True)
finally:
  open(src,'w').write(orig)
  subprocess.run('bash scripts/build-kernel.sh', shell=True, cwd=ROOT)
sys.exit(1 if missed else 0)
