// Depthwise convolution over the visible positions of a sparse map (submanifold semantics).
//
// The features are tokens: x is (M, C), one row per visible position, channels contiguous.
// nbr is (M, K): nbr[r][k] is the row of the visible position at kernel offset k from row r
// (offsets in the kernel's row-major order), or -1 where that position is masked or outside
// the image. The output exists at the visible positions only:
//
//     y[r][c] = bias[c] + sum_k w[k][c] * x[nbr[r][k]][c]        (w is the kernel as (K, C))
//
// Only visible rows are read and written, so the work is proportional to the number of visible
// positions. The inner loops run over channels (contiguous in memory); for float32 they are
// compiled twice, for AVX2+FMA and for the baseline, and the CPU picks one at load time.
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace {

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#define MMCX_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define MMCX_CLONES
#endif

// One output row: y = bias + sum_k w[k] * x[nbr[k]] over C channels. Channels go in blocks of
// kBlock, whose sums stay in registers across the K taps; the rest one by one.
constexpr int64_t kBlock = 32;

template <typename T>
__attribute__((always_inline)) inline void row_forward_impl(T* __restrict y, const T* __restrict x,
                             const int64_t* __restrict nbr, const T* __restrict w,
                             const T* __restrict bias, int64_t K, int64_t C) {
  int64_t c0 = 0;
  for (; c0 + kBlock <= C; c0 += kBlock) {
    T acc[kBlock];
    for (int64_t c = 0; c < kBlock; ++c) acc[c] = bias ? bias[c0 + c] : T(0);
    for (int64_t k = 0; k < K; ++k) {
      const int64_t s = nbr[k];
      if (s < 0) continue;
      const T* xs = x + s * C + c0;
      const T* wk = w + k * C + c0;
      for (int64_t c = 0; c < kBlock; ++c) acc[c] += wk[c] * xs[c];
    }
    for (int64_t c = 0; c < kBlock; ++c) y[c0 + c] = acc[c];
  }
  for (int64_t c = c0; c < C; ++c) {
    T acc = bias ? bias[c] : T(0);
    for (int64_t k = 0; k < K; ++k)
      if (nbr[k] >= 0) acc += w[k * C + c] * x[nbr[k] * C + c];
    y[c] = acc;
  }
}

// gw[k] += g * x[nbr[k]] for one row, in the same channel blocks (g stays in registers)
template <typename T>
__attribute__((always_inline)) inline void row_weight_grad_impl(T* __restrict gw, const T* __restrict g,
                                 const T* __restrict x, const int64_t* __restrict nbr,
                                 int64_t K, int64_t C) {
  int64_t c0 = 0;
  for (; c0 + kBlock <= C; c0 += kBlock) {
    T gr[kBlock];
    for (int64_t c = 0; c < kBlock; ++c) gr[c] = g[c0 + c];
    for (int64_t k = 0; k < K; ++k) {
      const int64_t s = nbr[k];
      if (s < 0) continue;
      const T* xs = x + s * C + c0;
      T* acc = gw + k * C + c0;
      for (int64_t c = 0; c < kBlock; ++c) acc[c] += gr[c] * xs[c];
    }
  }
  for (int64_t k = 0; k < K; ++k) {
    if (nbr[k] < 0) continue;
    for (int64_t c = c0; c < C; ++c) gw[k * C + c] += g[c] * x[nbr[k] * C + c];
  }
}

MMCX_CLONES void row_forward(float* y, const float* x, const int64_t* nbr, const float* w,
                             const float* bias, int64_t K, int64_t C) {
  row_forward_impl(y, x, nbr, w, bias, K, C);
}

void row_forward(double* y, const double* x, const int64_t* nbr, const double* w,
                 const double* bias, int64_t K, int64_t C) {
  row_forward_impl(y, x, nbr, w, bias, K, C);
}

MMCX_CLONES void row_weight_grad(float* gw, const float* g, const float* x, const int64_t* nbr,
                                 int64_t K, int64_t C) {
  row_weight_grad_impl(gw, g, x, nbr, K, C);
}

void row_weight_grad(double* gw, const double* g, const double* x, const int64_t* nbr,
                     int64_t K, int64_t C) {
  row_weight_grad_impl(gw, g, x, nbr, K, C);
}

template <typename T>
void forward_rows(const T* x, const int64_t* nbr, const T* w, const T* bias, T* y, int64_t M,
                  int64_t K, int64_t C) {
  at::parallel_for(0, M, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row_forward(y + r * C, x, nbr + r * K, w, bias, K, C);
  });
}

// gw[k][c] = sum_r g[r][c] * x[nbr[r][k]][c]. The rows are split into one block per thread;
// each block sums into its own partial (indexed by block, not by thread id), and the partials
// are added in block order: the result does not depend on scheduling.
template <typename T>
void weight_grad_rows(const T* g, const T* x, const int64_t* nbr, T* gw, int64_t M, int64_t K,
                      int64_t C) {
  const int64_t blocks = std::max<int64_t>(
      1, std::min<int64_t>(at::get_num_threads(), (M + 63) / 64));
  std::vector<T> partial(static_cast<size_t>(blocks * K * C), T(0));
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* acc = partial.data() + b * K * C;
      for (int64_t r = M * b / blocks; r < M * (b + 1) / blocks; ++r)
        row_weight_grad(acc, g + r * C, x, nbr + r * K, K, C);
    }
  });
  for (int64_t i = 0; i < K * C; ++i) {
    T sum = T(0);
    for (int64_t b = 0; b < blocks; ++b) sum += partial[b * K * C + i];
    gw[i] = sum;
  }
}

void check_inputs(const torch::Tensor& x, const torch::Tensor& nbr, const torch::Tensor& w) {
  TORCH_CHECK(x.device().is_cpu(), "sparse_dwconv: x must be on the CPU, got ", x.device());
  TORCH_CHECK(x.dim() == 2 && x.is_contiguous(), "sparse_dwconv: x must be a contiguous (M, C) "
              "tensor, got shape ", x.sizes());
  TORCH_CHECK(nbr.dim() == 2 && nbr.size(0) == x.size(0) && nbr.scalar_type() == torch::kLong &&
              nbr.is_contiguous(), "sparse_dwconv: nbr must be a contiguous int64 (M, K) tensor "
              "with M = ", x.size(0), ", got ", nbr.scalar_type(), " ", nbr.sizes());
  TORCH_CHECK(w.dim() == 2 && w.size(0) == nbr.size(1) && w.size(1) == x.size(1) &&
              w.is_contiguous() && w.scalar_type() == x.scalar_type(),
              "sparse_dwconv: weight must be a contiguous (K, C) = (", nbr.size(1), ", ",
              x.size(1), ") tensor of x's dtype, got ", w.scalar_type(), " ", w.sizes());
  if (nbr.numel())
    TORCH_CHECK(nbr.max().item<int64_t>() < x.size(0) && nbr.min().item<int64_t>() >= -1,
                "sparse_dwconv: nbr holds rows outside [-1, ", x.size(0), ")");
}

}  // namespace

torch::Tensor sparse_dwconv_forward(const torch::Tensor& x, const torch::Tensor& nbr,
                                    const torch::Tensor& weight,
                                    const c10::optional<torch::Tensor>& bias) {
  check_inputs(x, nbr, weight);
  const bool has_bias = bias.has_value() && bias->defined();
  if (has_bias)
    TORCH_CHECK(bias->dim() == 1 && bias->size(0) == x.size(1) && bias->is_contiguous() &&
                bias->scalar_type() == x.scalar_type(),
                "sparse_dwconv: bias must be a contiguous (C,) tensor of x's dtype");
  auto y = torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "sparse_dwconv_forward", [&] {
    forward_rows<scalar_t>(x.data_ptr<scalar_t>(), nbr.data_ptr<int64_t>(),
                           weight.data_ptr<scalar_t>(),
                           has_bias ? bias->data_ptr<scalar_t>() : nullptr,
                           y.data_ptr<scalar_t>(), x.size(0), nbr.size(1), x.size(1));
  });
  return y;
}

torch::Tensor sparse_dwconv_weight_grad(const torch::Tensor& grad, const torch::Tensor& x,
                                        const torch::Tensor& nbr) {
  TORCH_CHECK(grad.sizes() == x.sizes() && grad.is_contiguous() &&
              grad.scalar_type() == x.scalar_type(),
              "sparse_dwconv: grad must be a contiguous tensor like x, got ", grad.sizes());
  auto gw = torch::empty({nbr.size(1), x.size(1)}, x.options());
  check_inputs(x, nbr, gw);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "sparse_dwconv_weight_grad", [&] {
    weight_grad_rows<scalar_t>(grad.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(),
                               nbr.data_ptr<int64_t>(), gw.data_ptr<scalar_t>(), x.size(0),
                               nbr.size(1), x.size(1));
  });
  return gw;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("sparse_dwconv_forward", &sparse_dwconv_forward,
        "y[r] = bias + sum_k w[k] * x[nbr[r, k]] over visible rows (nbr -1: none)");
  m.def("sparse_dwconv_weight_grad", &sparse_dwconv_weight_grad,
        "gw[k] = sum_r grad[r] * x[nbr[r, k]]");
}
