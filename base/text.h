/* Text built into a fixed buffer, piece by piece, never past its end. */
#ifndef TASKFARM_BASE_TEXT_H_
#define TASKFARM_BASE_TEXT_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Appends to buf (len bytes) at *at as snprintf would, and *at advances by
 * what the whole text takes: a short buf is cut (and stays NUL-terminated)
 * but never overrun, and *at >= len tells that it was cut. Once *at
 * reaches len nothing is written, and no pointer past buf's end is
 * formed. */
void base_appendf(char* buf, size_t len, size_t* at, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif

#endif /* TASKFARM_BASE_TEXT_H_ */
