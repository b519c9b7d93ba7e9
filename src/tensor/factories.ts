/** Creation functions, as torch.zeros / torch.tensor / torch.randn ... (thin aliases of the Tensor statics). */
import { Tensor } from './tensor.js';

export const tensor = Tensor.from;
export const scalar = Tensor.scalar;
export const zeros = Tensor.zeros;
export const ones = Tensor.ones;
export const full = Tensor.full;
export const arange = Tensor.arange;
export const linspace = Tensor.linspace;
export const eye = Tensor.eye;
export const rand = Tensor.rand;
export const randn = Tensor.randn;
export const randint = Tensor.randint;

export const zerosLike = (t: Tensor): Tensor => Tensor.zeros(t.shape, { dtype: t.dtype });
export const onesLike = (t: Tensor): Tensor => Tensor.ones(t.shape, { dtype: t.dtype });
