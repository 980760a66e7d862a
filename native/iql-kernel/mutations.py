"""
Mutation check of the kernel's hand-written gradients and updates: applies each mutation below to
iql_kernel.cc in turn, rebuilds (scripts/build-kernel.sh) and runs dist/src/rl/algos/iql-kernel.test.js;
every mutation must make a test fail. Restores the source and rebuilds at the end.
Usage (after npx tsc -p tsconfig.json): python3 native/iql-kernel/mutations.py [name ...]   (≈ 3 min)
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
 ('hidden da', 'R, ly.in, ly.out, 1.0f, g, ly.out', 'R, ly.in, ly.out, 0.5f, g, ly.out'),
 ('expectile weight', 'ui > 0.f ? tau * ui : (1.0f - tau) * ui', 'ui > 0.f ? (1.0f - tau) * ui : tau * ui'),
 ('dV sign/scale', 'k.dv[i] = wu * ninv;', 'k.dv[i] = wu * inv;'),
 ('TD target uses V(s)', 'const float y = k.r[i] + k.m[i] * vn;', 'const float y = k.r[i] + k.m[i] * vs;'),
 ('TD grad scale', 'k.dq2[i] = e2 * inv;', 'k.dq2[i] = e2 * inv * 0.5f;'),
 ('Adam v', 'c2 * (g * g)', 'c2 * std::fabs(g)'),
 ('Adam bias correction', 'float(double(c.lr) * sbc2 / bc1)', 'float(double(c.lr) / bc1)'),
 ('Adam V lr', 'if (i >= c.vStart) delta *= c.lrScaleV;', ''),
 ('Polyak', '(theta[i] - target[i]) * ptau', '(theta[i] - target[i]) * (1.0f - ptau)'),
 ('LN forward eps', 's2 / float(n) + LN_EPS', 's2 / float(n) + 1e-3f'),
]
only = sys.argv[1:]
res=[]
missed=0
try:
  for name,a,b in muts:
    if only and name not in only: continue
    assert orig.count(a)==1, name
    open(src,'w').write(orig.replace(a,b))
    r=subprocess.run('FORCE=1 bash scripts/build-kernel.sh >/dev/null 2>&1 && node --test dist/src/rl/algos/iql-kernel.test.js 2>&1', shell=True, cwd=ROOT, capture_output=True, text=True)
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
