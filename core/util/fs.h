/*
 * fs.h: the file-system helpers the server's folders need (the audio
 * cache, the recordings).
 */
#ifndef SB_FS_H
#define SB_FS_H

/* Creates dir and its missing parents with mode (existing folders are
 * left as they are), then checks dir is a folder this process can write.
 * Returns 0, or -1 with errno set. Blocking: call it at start-up or from
 * the thread pool. */
int sb_mkdir_p(const char *dir, unsigned mode);

#endif
