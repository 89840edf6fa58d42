/* The usage texts of --help: the general one and one per job. Plain data;
 * the options themselves are parsed in job.c. */
#include "proto/job.h"

static const char kUsage[] =
    "usage: mpiexec.mpich -disable-auto-cleanup -n P taskfarm JOB [options]\n"
    "       taskfarm JOB [options]          (no mpiexec: the master computes "
    "alone)\n"
    "\n"
    "Rank 0 is the master: it splits [0, n) into chunks and hands them out on\n"
    "demand; every other rank is a worker. Results are exact and do not "
    "depend\n"
    "on the rank count, chunk size or the order results arrive.\n"
    "\n"
    "jobs:\n"
    "  hello             every rank prints a smiley, its rank, the world size\n"
    "                    and its host\n"
    "  pi  --n N         Leibniz series S_n = sum_{i<n} (-1)^i 4/(2i+1)\n"
    "  dot --n N         exact dot product of a=[1..n] and b=[n..1]\n"
    "  dot --a A --b B   dot product of two little-endian float64 files\n"
    "  noop --n N        chunks that compute nothing: measures the farm "
    "itself\n"
    "  loop --n N        synthetic iterations of a chosen cost (--cost), for\n"
    "                    scheduling experiments; exact checksum\n"
    "  mandelbrot        the Mandelbrot set, pixel by pixel: the classic\n"
    "                    irregular loop (--size, --region, --max-iter,\n"
    "                    --image)\n"
    "  run --kernel SO --n N [--arg K=V ...]\n"
    "                    your own kernel, from a shared object built against\n"
    "                    worker/taskfarm_kernel.h\n"
    "\n"
    "options:\n"
    "  --n N          iterations; an integer or a form such as 1e10 or 10e9\n"
    "  --chunk C      iterations per chunk (default: about 64 chunks per "
    "worker,\n"
    "                 capped so one chunk takes well under a second); the\n"
    "                 master keeps 80 bytes per chunk and takes at most\n"
    "                 2^26 (67 million) chunks\n"
    "  --output FILE  also write the result lines to FILE\n"
    "  --quiet        print only the result lines\n"
    "  --help         this text; `taskfarm JOB --help` explains one job\n"
    "\n"
    "scheduling (docs/schedules.md has the formulas and their sources):\n"
    "  --schedule NAME  how chunks are sized and handed out (default "
    "dynamic):\n"
    "                   static     one contiguous block per worker\n"
    "                   cyclic     fixed chunks dealt round-robin in advance\n"
    "                   dynamic    fixed chunks on demand (--chunk or auto)\n"
    "                   guided     remaining/P on demand (GSS)\n"
    "                   trapezoid  linearly decreasing sizes (TSS)\n"
    "                   factoring  batches of P chunks of remaining/2P (FAC2)\n"
    "                   wf         factoring scaled by --weights\n"
    "                   awf-b      factoring with weights learned per batch\n"
    "                   awf-c      factoring with weights learned per chunk\n"
    "                   af         adaptive factoring from measured mean and\n"
    "                              variance of each worker's speed\n"
    "  --weights W1,W2,...  wf: relative speed of workers 1..P (P values)\n"
    "  --min-chunk C    smallest chunk of the variable-size schedules\n"
    "                   (default n/(4096 P), at least 1 grain)\n"
    "  --report FILE    write the run's statistics as JSON\n"
    "  --trace FILE     write a Chrome/Perfetto trace: one track per rank, "
    "one\n"
    "                   slice per chunk attempt (open in ui.perfetto.dev)\n"
    "\n"
    "long runs:\n"
    "  --journal FILE   append every finished chunk to FILE (checksummed,\n"
    "                   made durable at least once a second)\n"
    "  --resume         with --journal: skip the chunks FILE already holds;\n"
    "                   the result is bitwise the one of an unbroken run\n"
    "  --progress       progress line on stderr even when it is not a\n"
    "                   terminal (default: only on a terminal)\n"
    "  --status-port P  serve GET /status (JSON) and GET /metrics\n"
    "                   (Prometheus) over HTTP on port P\n"
    "  --status-bind A  IP address for --status-port (default 127.0.0.1;\n"
    "                   0.0.0.0 serves every interface)\n"
    "SIGINT or SIGTERM stops the run cleanly (exit 128+signal), flushes the\n"
    "journal and prints the command that resumes; a second one ends at once.\n"
    "\n"
    "fault tolerance (launch with mpiexec.mpich -disable-auto-cleanup so a\n"
    "lost rank does not end the job):\n"
    "  --timeout auto|S      chunk deadline: auto (default) = factor x the\n"
    "                        time the worker's measured speed predicts +\n"
    "                        floor; or a fixed S >= 0.001 seconds per chunk\n"
    "  --timeout-factor F    auto deadline factor, 1..1e6 (default 3)\n"
    "  --timeout-floor S     added to every deadline; a worker silent this\n"
    "                        long has its chunks re-issued (default 1, at\n"
    "                        least 0.2: a computing worker reports every\n"
    "                        0.1 s)\n"
    "  --lost-after S        a worker silent this long while holding work is\n"
    "                        lost: no more work until it speaks (default 3,\n"
    "                        at least 0.2)\n"
    "  --speculate on|off    at the end, copy chunks of slow workers to idle\n"
    "                        fast ones when that finishes sooner (default on,\n"
    "                        off for --schedule static and cyclic)\n"
    "  --master-timeout S    a worker that hears nothing from the master for\n"
    "                        S seconds, start-up included, exits on its own\n"
    "                        (default 60, at least 2: the master sends every\n"
    "                        worker something each second)\n"
    "  --inject R:KIND[@WHEN] test-only fault on worker rank R, needs\n"
    "                        TASKFARM_FAULTS=1 in the environment. KIND: "
    "exit,\n"
    "                        abort, freeze, slow=F. WHEN: Nc (after N chunks,\n"
    "                        default 0c) or Ts (after T seconds of work)\n"
    "  --inject R:speed=P@T,P@T,...  rank R computes at P percent of its\n"
    "                        speed from T seconds after it started (a\n"
    "                        timeline; tools/uneven's --limit without "
    "cgroups)\n"
    "\n"
    "The first result for a chunk counts; later copies are dropped and\n"
    "counted. The result is bitwise the same whatever failed.\n"
    "\n"
    "Exit status: 0 done (also when ranks were lost), 1 run-time failure,\n"
    "2 bad command line, an input or output file that cannot be used, a\n"
    "journal this run must not use or a --status-port that cannot be bound,\n"
    "128+signal when stopped by SIGINT or SIGTERM.\n";

static const char kUsageHello[] =
    "usage: mpiexec.mpich -n P taskfarm hello\n"
    "\n"
    "The tutorial's smiling processes: every rank prints one line with its "
    "own\n"
    "smiley, its rank, the world size and its host name; then rank 0 prints "
    "how\n"
    "many ranks answered from how many hosts.\n";

static const char kUsagePi[] =
    "usage: mpiexec.mpich -n P taskfarm pi --n N [--chunk C] [options]\n"
    "\n"
    "Computes S_n = sum_{i=0}^{n-1} (-1)^i 4/(2i+1), which tends to pi.\n"
    "Prints `PI is approximately %.16f, Error is %.16f` (the error against\n"
    "M_PI, as the tutorial does) and `Time = ... sec`.\n"
    "\n"
    "The terms are grouped into grains of 1024 terms; each grain is summed in\n"
    "one fixed order and grains are combined in an exact accumulator, rounded\n"
    "once. So the printed value is bitwise the same for any rank count, chunk\n"
    "size or arrival order, and lies within 2 ulp of the exact S_n.\n"
    "C is rounded up to a multiple of 1024. 1 <= N <= 2^50 (1.1e15).\n";

static const char kUsageDot[] =
    "usage: mpiexec.mpich -n P taskfarm dot --n N [--chunk C] [options]\n"
    "       mpiexec.mpich -n P taskfarm dot --a A --b B [--chunk C] [options]\n"
    "\n"
    "With --n: the tutorial's a=[1..n], b=[n..1], generated by the workers\n"
    "(no vectors in memory). Partial sums are 128-bit integers, so the result\n"
    "`Dot product is <integer>` is exact, n(n+1)(n+2)/6, for 1 <= N <= "
    "1.2e13.\n"
    "\n"
    "With --a and --b: two files of little-endian float64 of equal length;\n"
    "each worker reads only its chunk's range. Every product is split exactly\n"
    "(a*b = p + e) and summed in an exact accumulator, so the printed result\n"
    "is the exact dot product rounded once, whatever the ranks or chunking.\n"
    "It prints `Dot product is %.17g` and the element count.\n";

static const char kUsageNoop[] =
    "usage: mpiexec.mpich -n P taskfarm noop --n N [--chunk C] [options]\n"
    "\n"
    "Hands out the chunks of [0, N) like any job, but the workers compute\n"
    "nothing: what remains is the farm's own cost (messages, bookkeeping).\n"
    "Prints `Chunks = <count>` and `Time = ... sec`. With --chunk 1 and\n"
    "N = 1e6 it measures how many chunks per second the master dispatches.\n";

static const char kUsageLoop[] =
    "usage: mpiexec.mpich -n P taskfarm loop --n N [--cost C] [--mean NS]\n"
    "                                       [--spread NS] [--seed S] "
    "[options]\n"
    "\n"
    "N iterations whose costs follow a profile, for experiments with the\n"
    "schedules. Iteration i busies the CPU (integer work, not a sleep) for\n"
    "a time drawn from the profile with a generator seeded by S and i, so\n"
    "every run of the same command does the same work. The work per\n"
    "nanosecond is measured on the master at start and sent with every\n"
    "chunk, so a slower rank really takes longer.\n"
    "  --cost C     constant (default), uniform, normal, exponential, gamma,\n"
    "               increasing, decreasing or bimodal\n"
    "  --mean NS    mean cost per iteration in ns (default 1000)\n"
    "  --spread NS  uniform: half-width; normal: standard deviation; gamma:\n"
    "               standard deviation; increasing/decreasing: the costs go\n"
    "               linearly from mean-NS to mean+NS (or back); bimodal:\n"
    "               mean-NS or mean+NS (default mean/2)\n"
    "  --seed S     the costs' seed (default 1)\n"
    "Prints `Checksum = <integer>` (a 128-bit sum of a hash of each index:\n"
    "the same for every schedule, rank count and fault), the total cost the\n"
    "profile asked for and `Time = ... sec`.\n";

static const char kUsageMandel[] =
    "usage: mpiexec.mpich -n P taskfarm mandelbrot [--size WxH] [--region "
    "X0,Y0,X1,Y1]\n"
    "                                            [--max-iter M] [--image "
    "FILE.pgm] [options]\n"
    "\n"
    "Iterates z = z^2 + c at the centre of every pixel of a W x H image of\n"
    "the region [X0, X1] x [Y0, Y1] of the complex plane (row 0 at Y1) until\n"
    "|z| > 2 or M iterations; index i of [0, W*H) is pixel (i mod W, i / W).\n"
    "Pixels near the set cost up to M iterations, the others a few: the\n"
    "classic irregular loop. Defaults: 1024x768, -2.5,-1.25,1,1.25, 1000.\n"
    "Prints `Iterations = <exact integer>` (their sum) and `Pixels = W x H`.\n"
    "--image writes an 8-bit PGM: every rank writes its pixels into FILE\n"
    "(which must be on a file system the ranks share), black inside the\n"
    "set; it is the same bytes for every schedule and rank count.\n";

static const char kUsageRun[] =
    "usage: mpiexec.mpich -n P taskfarm run --kernel ./libmine.so --n N\n"
    "                                      [--arg KEY=VALUE ...] [options]\n"
    "\n"
    "Farms out your own kernel: a shared object exporting\n"
    "`const taskfarm_kernel_t* taskfarm_kernel(void)` as declared in\n"
    "worker/taskfarm_kernel.h. Every rank loads it; its bytes enter the\n"
    "job's fingerprint, so a rank with another build of it is refused and a\n"
    "journal of another build is not resumed. --arg (up to 32) are passed\n"
    "to its init. A missing symbol, another interface version or an init\n"
    "that fails is refused before MPI starts (exit 2).\n"
    "Prints `Result = %.17g` and `Result bits = %a` (float kernels) and/or\n"
    "`Integer result = <integer>` (integer kernels), and `Time = ... sec`.\n"
    "README.md, \"Your own kernel\", builds and runs the example in\n"
    "examples/.\n";

const char* proto_job_usage(proto_job_kind_t kind) {
  switch (kind) {
    case PROTO_JOB_LOOP:
      return kUsageLoop;
    case PROTO_JOB_RUN:
      return kUsageRun;
    case PROTO_JOB_MANDEL:
      return kUsageMandel;
    case PROTO_JOB_NOOP:
      return kUsageNoop;
    case PROTO_JOB_HELLO:
      return kUsageHello;
    case PROTO_JOB_PI:
      return kUsagePi;
    case PROTO_JOB_DOT:
    case PROTO_JOB_DOTF:
      return kUsageDot;
    case PROTO_JOB_NONE:
      break;
  }
  return kUsage;
}
