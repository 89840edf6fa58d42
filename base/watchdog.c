/* base/watchdog.h. The thread sleeps in steps of at most 100 ms, so a
 * deadline is kept to within that; it blocks every signal, so signals keep
 * going to the main thread as before. */
#include "base/watchdog.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

enum { STEP_NS = 100000000 };

static atomic_uint_fast64_t deadline; /* 0: disarmed */
static atomic_int exit_status;
static char text[256];
static pthread_mutex_t text_lock = PTHREAD_MUTEX_INITIALIZER;
static int started;

static void* watch(void* arg) {
  (void)arg;
  for (;;) {
    uint64_t d = atomic_load(&deadline), now = base_now_ns();
    if (d != 0 && now >= d) {
      char line[300];
      pthread_mutex_lock(&text_lock);
      int len = snprintf(line, sizeof(line), "taskfarm: %s\n", text);
      pthread_mutex_unlock(&text_lock);
      if (len > (int)sizeof(line) - 1) len = (int)sizeof(line) - 1;
      ssize_t ignored = write(STDERR_FILENO, line, (size_t)len);
      (void)ignored;
      _exit(atomic_load(&exit_status));
    }
    uint64_t ns = STEP_NS;
    if (d != 0 && d - now < ns) ns = d - now;
    struct timespec pause = {0, (long)ns};
    nanosleep(&pause, NULL);
  }
  return NULL;
}

int base_watchdog_arm(uint64_t deadline_ns, int status, const char* message) {
  pthread_mutex_lock(&text_lock);
  snprintf(text, sizeof(text), "%s", message);
  atomic_store(&exit_status, status);
  atomic_store(&deadline, deadline_ns);
  int rc = 0;
  if (!started) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    rc = pthread_create(&t, &attr, watch, NULL) == 0 ? 0 : -1;
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    started = rc == 0;
  }
  pthread_mutex_unlock(&text_lock);
  return rc;
}

void base_watchdog_push(uint64_t deadline_ns) {
  uint64_t d = atomic_load(&deadline);
  if (d != 0) atomic_compare_exchange_strong(&deadline, &d, deadline_ns);
}

void base_watchdog_disarm(void) { atomic_store(&deadline, 0); }
