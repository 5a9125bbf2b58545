/* The Swift runtime's hooks for moving a task's dynamic exclusivity accesses on
 * and off a thread (libswiftCore exports them for Swift Concurrency's own task
 * switches). state is two words, zero for a task that never ran; enter pushes
 * the task's open accesses onto the calling thread's access set, exit takes back
 * those opened since enter. The scheduler brackets every task switch with them
 * (Scheduler.swift), so an access held across a park ends on whichever thread
 * the task resumes on, and clients keep default exclusivity checking. */
#ifndef CWEFT_EXCLUSIVITY_H
#define CWEFT_EXCLUSIVITY_H

void swift_task_enterThreadLocalContext(char *state);
void swift_task_exitThreadLocalContext(char *state);

#endif
