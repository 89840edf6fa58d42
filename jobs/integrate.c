/* integrate: the integral of a function over [--from, --to] by the
 * midpoint rule with n intervals, the next step after the pi series: the
 * classic MPI example (MPICH's cpi) integrates 4 / (1 + x^2) over [0, 1],
 * which is pi. Interval i adds f(a + (i + 1/2) h) h, a function of i
 * alone, and the farm sums the terms exactly: the same bits for any
 * chunking, schedule or rank count. The closed form of each integral is
 * the reference its error is measured against. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/jobs.h"
#include "jobs/taskfarm_kernel.h"

typedef enum { F_ATAN, F_SIN, F_EXP, F_GAUSS } function_t;

/* pi: 4/(1+x^2); gauss: exp(-x^2). */
static const char* const kFunctions[] = {"pi", "sin", "exp", "gauss", NULL};

typedef struct rule_s rule_t;
struct rule_s {
  function_t f;
  double a; /* --from */
  double b; /* --to */
  double h; /* (b - a) / n */
};

/* The largest --to of exp. Every other integrand is at most 4 in size,
 * but exp grows without bound, to the largest double at 709.78; its
 * midpoint sum lies below its integral, exp(b) - exp(a) < exp(b), so up
 * to exp(709) (less than half the largest double) the terms, their sum,
 * the reference and the error all stay finite. */
static const double kExpToMax = 709;

static double f_of(function_t f, double x) {
  switch (f) {
    case F_SIN:
      return sin(x);
    case F_EXP:
      return exp(x);
    case F_GAUSS:
      return exp(-x * x);
    default:
      return 4.0 / (1.0 + x * x);
  }
}

/* The antiderivative F, for the reference F(b) - F(a). */
static double antiderivative(function_t f, double x) {
  switch (f) {
    case F_SIN:
      return -cos(x);
    case F_EXP:
      return exp(x);
    case F_GAUSS:
      return 0.88622692545275801 * erf(x); /* sqrt(pi) / 2 */
    default:
      return 4.0 * atan(x);
  }
}

static void rule_of(const taskfarm_arg_t* args, int nargs, uint64_t n,
                    rule_t* r) {
  const char* f = taskfarm_arg_text(args, nargs, "function", kFunctions[0]);
  r->f = F_ATAN;
  for (int i = 0; kFunctions[i] != NULL; i++)
    if (strcmp(kFunctions[i], f) == 0) r->f = (function_t)i;
  r->a = taskfarm_arg_real(args, nargs, "from", 0);
  r->b = taskfarm_arg_real(args, nargs, "to", 1);
  r->h = (r->b - r->a) / (double)n;
}

static int init(void** state, uint64_t n, const taskfarm_arg_t* args,
                int nargs, char* err, size_t errlen) {
  rule_t rule;
  rule_of(args, nargs, n, &rule);
  if (!(rule.a < rule.b)) {
    snprintf(err, errlen,
             "integrate needs --from below --to, got [%.17g, %.17g]", rule.a,
             rule.b);
    return -1;
  }
  if (rule.f == F_EXP && rule.b > kExpToMax) {
    snprintf(err, errlen,
             "integrate --function exp needs --to at most %g, where exp "
             "stays below half the largest double, got %.17g",
             kExpToMax, rule.b);
    return -1;
  }
  rule_t* r = malloc(sizeof(*r));
  if (r == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  *r = rule;
  *state = r;
  return 0;
}

static int compute(void* state, uint64_t begin, uint64_t end,
                   const taskfarm_out_t* out, char* err, size_t errlen) {
  (void)err, (void)errlen;
  const rule_t* r = state;
  for (uint64_t i = begin; i < end; i++) {
    double x = r->a + ((double)i + 0.5) * r->h;
    out->add_double(out->ctx, f_of(r->f, x) * r->h);
  }
  return 0;
}

static void close_rule(void* state) { free(state); }

static int reference(uint64_t n, const taskfarm_arg_t* args, int nargs,
                     taskfarm_reference_t* ref) {
  rule_t r;
  rule_of(args, nargs, n, &r);
  ref->value = antiderivative(r.f, r.b) - antiderivative(r.f, r.a);
  ref->text = NULL;
  ref->what = "the closed form F(to) - F(from)";
  return 0;
}

static const taskfarm_option_t kOptions[] = {
    {"function", TASKFARM_OPT_CHOICE, "F",
     "the integrand: pi is 4/(1+x^2), IEEE operations alone (the same bits "
     "on every machine); sin, exp and gauss (exp(-x^2)) call libm (ranks "
     "must share one)",
     "pi", 0, 0, kFunctions},
    {"from", TASKFARM_OPT_REAL, "A", "the lower bound", "0", -1e6, 1e6, NULL},
    {"to", TASKFARM_OPT_REAL, "B", "the upper bound (at most 709 for exp)", "1",
     -1e6, 1e6, NULL},
    {NULL}};
static const char* const kLines[] = {
    "Integral is approximately {float:.16f}, Error is {error:.16f}",
    "Integral bits = {bits}", NULL};

static const taskfarm_kernel_t kIntegrate = {
    .abi = TASKFARM_KERNEL_ABI,
    .name = "integrate",
    .version = 1,
    .result = TASKFARM_RESULT_FLOAT,
    .align = 1,
    .n_max = (uint64_t)1 << 52, /* i + 1/2 stays exact in a double */
    .init = init,
    .compute = compute,
    .close = close_rule,
    .help = "The integral of --function over [--from, --to] by the midpoint\n"
            "rule with n intervals: interval i adds f(a + (i + 1/2) h) h, and\n"
            "the terms are summed exactly. The default, --function pi, is\n"
            "4/(1+x^2) over [0, 1], MPICH's cpi example: it converges to pi\n"
            "as n grows, the error falling as 1/n^2.\n",
    .options = kOptions,
    .lines = kLines,
    .n_what = "intervals",
    .reference = reference,
    .slice = (uint64_t)1 << 18,
    .chunk_max = (uint64_t)1 << 26,
};

JOBS_REGISTER(integrate, "integrate",
              "the integral of a function by the midpoint rule (cpi)",
              &kIntegrate, 0, 0);
