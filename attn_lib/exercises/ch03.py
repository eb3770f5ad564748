"""Self-checks for Chapter 3, scoring functions.

Each check compares the answer with the right one and, when they differ, with the answers of
the exercise's classic mistakes, to name the one it recognises.
"""

import numpy as np

from attn_lib import reference
from attn_lib.exercises import exercise

# -------------------------------------------------------------------------------------------
# 3.1: the bytes of additive attention's (B, Tq, Tv, h) features in float32

EXERCISE_3_1_SHAPE = (32, 512, 512, 128)  # (B, Tq, Tv, h)


def _number(answer, what):
    """`answer` as one float, or the mistake name "not_a_number"."""
    if np.size(answer) != 1:
        return "not_a_number"
    value = float(np.asarray(answer, dtype=np.float64).reshape(()))
    if not np.isfinite(value):
        raise ValueError(f"expected {what} as a finite number; got {value}")
    return value


def _close(value, target, rtol):
    return abs(value - target) <= rtol * abs(target)


@exercise("3.1", hint="Multiply the four sizes B, Tq, Tv and h, then the bytes per float32.",
          mistakes={
              "not_a_number": "The answer is one number, the size of the tensor in bytes.",
              "elements": "That is the number of elements; a float32 element takes more than "
                          "one byte. Multiply by the bytes per float32.",
              "bits": "That is the size in bits: a byte has 8 bits.",
              "dtype": "Your bytes per element are those of another type (float64 has 8, "
                       "float16 has 2): how many bytes does one float32 take?",
              "missing_size": "A size is missing from your product: the feature tensor has "
                              "four axes, B, Tq, Tv and h, and all of them count.",
              "units": "Your number is in larger units (KiB, MiB, GiB, or their decimal kB, MB, "
                       "GB): the exercise asks for the number of bytes.",
          })
def _(answer):
    value = _number(answer, "a number of bytes")
    if isinstance(value, str):
        return value
    elements = float(np.prod(EXERCISE_3_1_SHAPE, dtype=np.float64))
    expected = 4 * elements
    if _close(value, expected, 1e-2):  # a prediction to two or three significant digits
        return True
    wrong = [("elements", elements), ("bits", 32 * elements),
             ("dtype", 8 * elements), ("dtype", 2 * elements)]
    wrong += [("missing_size", expected / size) for size in sorted(set(EXERCISE_3_1_SHAPE))]
    wrong += [("units", expected / base**power) for base in (1024, 1000) for power in (1, 2, 3)]
    for name, target in wrong:
        if _close(value, target, 1e-2):
            return name
    return False


# -------------------------------------------------------------------------------------------
# 3.2: Var(q·k) for components of variance 4, d = 64

EXERCISE_3_2_VARIANCE, EXERCISE_3_2_SIZE = 4.0, 64


@exercise("3.2", hint="Each product q_i k_i has variance Var(q_i) Var(k_i); there are d of them.",
          mistakes={
              "not_a_number": "The answer is one number, the variance of q·k.",
              "unit_variance": "That is the unit-variance result; here every component has "
                               "a larger variance, and Var(q_i k_i) = Var(q_i) Var(k_i).",
              "added": "You added the two variances; for independent zero-mean factors the "
                       "variance of a product is the product Var(q_i) Var(k_i).",
              "one_factor": "Only one factor's variance (or the two standard deviations) "
                            "went into each term: Var(q_i k_i) = Var(q_i) Var(k_i), the "
                            "product of the two variances.",
              "forgot_d": "That is the variance of one product q_i k_i (or of the scaled "
                          "score q·k/√d): the unscaled q·k sums d products, and variances of "
                          "independent terms add up.",
              "standard_deviation": "That is a standard deviation, the square root of the "
                                    "variance: the exercise asks for Var(q·k) itself.",
          })
def _(answer):
    value = _number(answer, "a variance")
    if isinstance(value, str):
        return value
    var, d = EXERCISE_3_2_VARIANCE, EXERCISE_3_2_SIZE
    expected = var * var * d
    if _close(value, expected, 0.1):  # a sampled estimate is within a few percent
        return True
    wrong = [("unit_variance", d), ("added", 2 * var * d), ("one_factor", var * d),
             ("forgot_d", var * var), ("standard_deviation", np.sqrt(expected))]
    for name, target in wrong:
        if _close(value, target, 0.05):
            return name
    return False


# -------------------------------------------------------------------------------------------
# 3.3: W with general_scores(q, k, W) == dot_product_scores(q, k) (scaled), size 8

EXERCISE_3_3_SIZE = 8


@exercise("3.3", hint="Which matrix W makes q W kᵀ the plain dot product, and what factor is left?",
          mistakes={
              "unscaled": "With this W you get the plain dot product q·k: the exercise asks "
                          "for the scaled one. What factor is left?",
              "factor": "W is a multiple of the identity, good, but not the right multiple: "
                        "by what does the scaled dot product divide q·k, for vectors of "
                        "this size?",
              "not_diagonal": "Your W mixes components: q W kᵀ then adds products q_i k_j with "
                              "i ≠ j, which the dot product does not have. Only the diagonal "
                              "of W may be non-zero.",
              "factor_only": "You passed one number, the factor: the answer is the whole "
                             "(8, 8) matrix W.",
              "diagonal_only": "You passed the diagonal of W: the answer is the whole (8, 8) "
                               "matrix (np.diag turns a diagonal into one).",
              "size": "W must be (8, 8) for queries and keys of size 8.",
          })
def _(answer):
    size = EXERCISE_3_3_SIZE
    answer = np.asarray(answer, dtype=np.float64)
    if answer.size == 1:
        return "factor_only"
    answer = answer.reshape(answer.shape[-2:]) if answer.ndim > 2 else answer
    if answer.shape == (size,):
        return "diagonal_only"
    if answer.ndim != 2 or answer.shape[0] != answer.shape[1]:
        raise ValueError(f"expected a matrix W of shape ({size}, {size}); got shape "
                         f"{answer.shape}")
    if answer.shape != (size, size):
        return "size"
    if np.allclose(answer, np.eye(size) / np.sqrt(size), atol=1e-5):
        return True
    off_diagonal = answer[~np.eye(size, dtype=bool)]
    if np.any(np.abs(off_diagonal) > 1e-5):
        return "not_diagonal"
    diagonal = np.diag(answer)
    if np.allclose(diagonal, 1.0, atol=1e-5):
        return "unscaled"
    if np.allclose(diagonal, diagonal[0], atol=1e-5):
        return "factor"
    return False


# -------------------------------------------------------------------------------------------
# 3.4: repair grid-normalised weights (B, Tq, Tv) into per-query weights


def _grids():
    """Scores of three shapes and their weights normalised over each batch element's grid."""
    rng = np.random.default_rng(304)
    for shape in [(2, 3, 5), (1, 4, 4), (3, 1, 6)]:
        scores = rng.normal(scale=2.0, size=shape)
        grid = reference.softmax(scores.reshape(shape[0], -1)).reshape(shape)
        yield scores, grid


@exercise("3.4", hint="Within one query's row, the grid softmax keeps the ratios "
                      "exp(s_ij)/exp(s_ik); only the row's total is wrong.",
          mistakes={
              "not_function": "Pass the function itself (answer = repair), not the weights "
                              "it returns: the check runs it on grids of its own.",
              "unchanged": "Your function returns the grid weights unchanged: each row sums "
                           "to its share of the grid, not to 1.",
              "wrong_axis": "Your weights sum to 1 over the queries (axis 1): each query's "
                            "weights must sum to 1 over its keys, the last axis.",
              "one_factor": "You scaled every weight by one number; the rows have different "
                            "totals, so each row needs its own divisor.",
              "softmax_again": "A softmax of the weights is not the softmax of the scores: "
                               "the weights are already exponentials, divided by the grid's "
                               "total. Undo only the division.",
              "max_not_sum": "You divided each row by its largest weight; softmax weights "
                             "sum to 1, so divide by the row's sum.",
          }, takes_function=True)
def _(answer):
    for scores, grid in _grids():
        repaired = np.asarray(answer(grid.astype(np.float32)), dtype=np.float64)
        if repaired.shape != scores.shape:
            raise ValueError(f"expected per-query weights of the shape of the grid, "
                             f"{scores.shape}; got {repaired.shape}")
        if np.allclose(repaired, reference.softmax(scores), atol=1e-5):
            continue
        if scores.shape[1] == 1:  # a single query: the wrong axis gives ones, no diagnosis
            return False
        wrong = [("unchanged", grid),
                 ("wrong_axis", grid / grid.sum(axis=1, keepdims=True)),
                 ("softmax_again", reference.softmax(grid)),
                 ("max_not_sum", grid / grid.max(axis=-1, keepdims=True))]
        for name, weights in wrong:
            if np.allclose(repaired, weights, atol=1e-5):
                return name
        ratio = repaired / grid
        if np.allclose(ratio, ratio.flat[0], rtol=1e-4):
            return "one_factor"
        return False
    return True
