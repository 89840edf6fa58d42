/* The project's one table of error codes. Every function that can fail
 * returns 0 on success or one of these negative codes (libuv's rule), and
 * proto_strerror() turns a code into a sentence for the user. */
#ifndef TASKFARM_PROTO_ERROR_H_
#define TASKFARM_PROTO_ERROR_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  PROTO_OK = 0,
  PROTO_EINVAL = -1,     /* bad argument or option value */
  PROTO_ERANGE = -2,     /* number outside the supported range */
  PROTO_ENOMEM = -3,     /* out of memory */
  PROTO_EIO = -4,        /* reading or writing a file failed */
  PROTO_EMSGSIZE = -5,   /* message of the wrong size for its kind */
  PROTO_EBADMSG = -6,    /* message with a bad magic, kind or field */
  PROTO_EVERSION = -7,   /* peer speaks another protocol version */
  PROTO_EJOB = -8,       /* peer was started with another job */
  PROTO_EMPI = -9,       /* an MPI call failed */
  PROTO_EUV = -10,       /* a libuv call failed */
  PROTO_EFILE = -11,     /* an input file cannot be opened or is no regular
                            file (what a kernel finds wrong in its contents,
                            a length, is PROTO_EINVAL with its sentence) */
  PROTO_ECANCELED = -12, /* work was cancelled */
  PROTO_EJOURNAL = -13,  /* journal of another job, damaged or newer */
  PROTO_ESTOPPED = -14,  /* the run was stopped by a signal */
  PROTO_EQUEUE = -15,    /* a worker's order queue is full */
  PROTO_EKERNEL = -16,   /* a kernel failed a chunk (--kernel's compute) */
  PROTO_EKILLED = -17,   /* the kernel's process died by a signal (the
                            detail is the signal) */
  PROTO_EEXITED = -18,   /* the kernel's process exited (the detail is
                            its status) */
  PROTO_EFROZE = -19,    /* the kernel showed no progress for too long
                            (the detail is the limit, in ms) */
  PROTO_EPOISON = -20,   /* a chunk killed or froze the ranks it went to */
  PROTO_ENONDET = -21,   /* computations of one chunk keep disagreeing:
                            the kernel is not deterministic */
  PROTO_ELIAR = -22,     /* a peer sent what can only be a lie */
} proto_error_t;

/* 1 when code says a kernel's computation died or froze (PROTO_EKILLED,
 * PROTO_EEXITED, PROTO_EFROZE): the chunk's fault, not the rank's. */
int proto_error_is_death(int code);

/* A static, human-readable sentence for code; never NULL. */
const char* proto_strerror(int code);

/* Writes the printf-style sentence into err (errlen bytes) and returns code:
 * `return proto_fail(err, errlen, PROTO_EINVAL, "...", ...);`. */
int proto_fail(char* err, size_t errlen, int code, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_PROTO_ERROR_H_ */
