/* Sentences for the error table in error.h. */
#include "proto/error.h"

#include <stdarg.h>
#include <stdio.h>

const char* proto_strerror(int code) {
  switch (code) {
    case PROTO_OK:
      return "success";
    case PROTO_EINVAL:
      return "invalid argument";
    case PROTO_ERANGE:
      return "value out of the supported range";
    case PROTO_ENOMEM:
      return "out of memory";
    case PROTO_EIO:
      return "input/output error";
    case PROTO_EMSGSIZE:
      return "message has the wrong size for its kind";
    case PROTO_EBADMSG:
      return "malformed message";
    case PROTO_EVERSION:
      return "protocol version mismatch";
    case PROTO_EJOB:
      return "peer runs a different job";
    case PROTO_EMPI:
      return "MPI call failed";
    case PROTO_EUV:
      return "event loop call failed";
    case PROTO_EFILE:
      return "input file unusable";
    case PROTO_ECANCELED:
      return "cancelled";
    case PROTO_EJOURNAL:
      return "journal unusable for this job";
    case PROTO_ESTOPPED:
      return "stopped by a signal";
    case PROTO_EQUEUE:
      return "the worker's order queue is full";
    case PROTO_EKERNEL:
      return "the kernel failed a chunk";
    case PROTO_EKILLED:
      return "the kernel's process died by a signal";
    case PROTO_EEXITED:
      return "the kernel's process exited in the middle of a chunk";
    case PROTO_EFROZE:
      return "the kernel showed no progress for too long";
    case PROTO_EPOISON:
      return "a chunk killed or froze every rank it went to";
    case PROTO_ENONDET:
      return "the kernel is not deterministic";
    case PROTO_ELIAR:
      return "a peer lied";
  }
  return "unknown error";
}

int proto_error_is_death(int code) {
  return code == PROTO_EKILLED || code == PROTO_EEXITED || code == PROTO_EFROZE;
}

int proto_fail(char* err, size_t errlen, int code, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return code;
}
