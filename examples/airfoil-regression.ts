// Linear regression on NASA's airfoil self-noise data, fitted with the autograd alone.
import { loadAirfoil, manualSeed, noGrad, randn, zeros } from 'papers-from-scratch';

manualSeed(0);
const { features: X, labels: y } = loadAirfoil(); // (1500, 5) and (1500), z-scored
const w = randn([5, 1]).mul(0.01).requiresGrad_(); // weights, and the bias below
const b = zeros([1], { requiresGrad: true });
for (let epoch = 1; epoch <= 50; epoch++) {
  const loss = X.matmul(w).add(b).squeeze(1).sub(y).pow(2).mean().div(2); // ½·mean (ŷ − y)²
  loss.backward(); // fills w.grad and b.grad
  noGrad(() => [w, b].forEach((p) => p.sub_(p.grad!.mul(0.3)))); // gradient descent, lr 0.3
  [w.grad, b.grad] = [null, null];
  if (epoch % 10 === 0) console.log(`epoch ${epoch}: loss ${loss.item().toFixed(4)}`);
}
console.log('w =', w.detach().reshape([-1]).toString(), 'b =', b.item().toFixed(4));
