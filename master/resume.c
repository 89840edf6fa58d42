/* master/resume.h. */
#include "master/resume.h"

#include <string.h>

/* Writes s as a shell word: as it is when every character is a letter, a
 * digit or in safe, else in single quotes. */
static void quoted(FILE* out, const char* s, const char* safe) {
  int plain = s[0] != '\0';
  for (const char* c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (*c >= '0' && *c <= '9') || strchr(safe, *c)))
      plain = 0;
  if (plain) {
    fputs(s, out);
    return;
  }
  fputc('\'', out);
  for (const char* c = s; *c; c++) {
    if (*c == '\'')
      fputs("'\\''", out);
    else
      fputc(*c, out);
  }
  fputc('\'', out);
}

static int prefixed(const char* s, const char* prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

int master_resume_keeps(const char* a) {
  if (strchr(a, '=') == NULL) return 0;
  if (prefixed(a, "MPIR_CVAR_CH3_INTERFACE_HOSTNAME=")) return 0;
  return prefixed(a, "UCX_") || prefixed(a, "MPIR_CVAR_") ||
         prefixed(a, "HYDRA_") || prefixed(a, "FI_") || prefixed(a, "OMP_") ||
         prefixed(a, "TASKFARM_PI_PATH=");
}

void master_resume_write(FILE* out, const master_resume_t* r) {
  fputs(" ", out);
  for (char** e = r->env; e != NULL && *e != NULL; e++)
    if (master_resume_keeps(*e)) {
      const char* eq = strchr(*e, '=');
      fprintf(out, " %.*s=", (int)(eq - *e), *e);
      quoted(out, eq + 1, "-_./,:+@%");
    }
  int size = r->launch.size;
  if (r->launch.kind == PROTO_LAUNCH_SLURM)
    fprintf(out, " srun --mpi=pmi2 -n %d", size);
  else if (r->launch.kind == PROTO_LAUNCH_HYDRA && size > 1)
    fprintf(out, " mpiexec.mpich -disable-auto-cleanup -n %d", size);
  int has_resume = 0;
  for (int i = 0; i < r->argc; i++) {
    const char* a = r->argv[i];
    has_resume |= strcmp(a, "--resume") == 0;
    if (i == 0 && strchr(a, '/') == NULL && r->exe != NULL) a = r->exe;
    fputc(' ', out);
    quoted(out, a, "-_./=,:+@%");
  }
  fprintf(out, "%s\n", has_resume ? "" : " --resume");
  if (r->launch.kind == PROTO_LAUNCH_HYDRA && r->hosts > 1)
    fprintf(out,
            "  (this run spanned %d hosts: give mpiexec the same -f hostfile "
            "or -hosts list)\n",
            r->hosts);
  if (r->launch.kind == PROTO_LAUNCH_SLURM)
    fputs(
        "  (inside an allocation of as many tasks: salloc, or an sbatch "
        "script)\n",
        out);
}
