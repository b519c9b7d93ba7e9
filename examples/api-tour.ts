// A tour of the API (the README shows it; the tests run it).
import { arange, manualSeed, nn, noGrad, optim, randn, tensor } from 'papers-from-scratch';

const x = tensor([[1, 2, 3], [4, 5, 6]]); // float32 by default; float64, int32, bool too
console.log(x.shape); // [2, 3]
console.log(x.T.contiguous().toString()); // views (transpose, permute, slice, expand, reshape) copy nothing
console.log(x.sum(1, true).toString(), x.max().item(), x.argmax(1).toString(), x.var(0).toString());
console.log(x.softmax(-1).toString(), x.logSoftmax(-1).toString()); // numerically stable
console.log(x.matmul(randn([3, 4])).shape); // 1-D, 2-D, batched with broadcast batch dims
console.log(x.where(x.gt(2), 0).toString()); // comparisons give bool tensors
console.log(arange(6).reshape([2, 3]).indexSelect(1, tensor([2, 0], { dtype: 'int32' })).toString());

const w = randn([3, 1], { requiresGrad: true });
const loss = x.matmul(w).pow(2).mean();
loss.backward(); // w.grad; gradients accumulate until cleared
noGrad(() => w.sub_(w.grad!.mul(0.1))); // in-place updates outside the tape

manualSeed(0); // one seed for init, dropout, shuffles
const net = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 10));
const opt = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
console.log(Object.keys(net.stateDict())); // [ '0.weight', '0.bias', '2.weight', '2.bias' ], as PyTorch names them
const y = net.forward(randn([8, 784])); // (8, 10)
nn.crossEntropy(y, tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int32' })).backward();
opt.step();
console.log(y.shape);
