/* A plain driver for fuzz_ops.c where libFuzzer is not linked: runs every file
 * named on the command line (or every file of a named folder) once, then
 * mutated copies of them and random inputs until -seconds=N have passed.
 * Prints the seed (re-run one with -seed=S) and how many inputs ran; a broken
 * invariant aborts (run.sh turns that into a failed suite). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 300
#define MAX_FILES 4096

static uint8_t *inputs[MAX_FILES];
static size_t sizes[MAX_FILES];
static int ninputs;

static void load_file(const char *path) {
  if (ninputs == MAX_FILES) return;
  FILE *f = fopen(path, "rb");
  if (!f) return;
  uint8_t *buf = malloc(MAX_INPUT);
  size_t n = fread(buf, 1, MAX_INPUT, f);
  fclose(f);
  inputs[ninputs] = buf;
  sizes[ninputs++] = n;
}

static void load(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) return load_file(path);
  DIR *dir = opendir(path);
  struct dirent *e;
  char full[4096];
  while (dir && (e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    snprintf(full, sizeof full, "%s/%s", path, e->d_name);
    load_file(full);
  }
  if (dir) closedir(dir);
}

static uint64_t rng;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double seconds = 10;
  uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "-seconds=", 9) == 0) seconds = atof(argv[i] + 9);
    else if (strncmp(argv[i], "-max_total_time=", 16) == 0) seconds = atof(argv[i] + 16);
    else if (strncmp(argv[i], "-seed=", 6) == 0) seed = strtoull(argv[i] + 6, NULL, 10);
    else if (argv[i][0] != '-') load(argv[i]);
  }
  if (seed == 0) seed = 1;
  rng = seed;
  printf("fuzz: seed %llu, %d corpus inputs, %.0f s\n", (unsigned long long)seed, ninputs, seconds);
  fflush(stdout);
  long runs = 0;
  for (int i = 0; i < ninputs; i++, runs++) LLVMFuzzerTestOneInput(inputs[i], sizes[i]);
  double until = now_s() + seconds;
  uint8_t buf[MAX_INPUT];
  while (now_s() < until) {
    size_t n;
    if (ninputs > 0 && next() % 4 != 0) {  /* mutate a corpus input */
      int k = (int)(next() % (uint64_t)ninputs);
      n = sizes[k];
      memcpy(buf, inputs[k], n);
      int edits = 1 + (int)(next() % 8);
      for (int e = 0; e < edits && n > 0; e++) {
        switch (next() % 3) {
        case 0: buf[next() % n] = (uint8_t)next(); break;
        case 1: buf[next() % n] ^= (uint8_t)(1u << (next() % 8)); break;
        default: if (n < MAX_INPUT) buf[n++] = (uint8_t)next(); break;
        }
      }
    } else {
      n = 3 + next() % 120;
      for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)next();
    }
    LLVMFuzzerTestOneInput(buf, n);
    runs++;
  }
  printf("fuzz: %ld inputs run\n", runs);
  return 0;
}
