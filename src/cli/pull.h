/* pull: the `interactd pull` and `interactd models` commands (see
 * pull/models.h for the models folder, pull/hub.h for the choice of files,
 * pull/download.h for the transfers). */
#ifndef IA_CLI_PULL_H
#define IA_CLI_PULL_H

/* argv after the command's name; the exit status (0 done, 1 failed, 2 bad
 * usage). */
int cli_pull(int argc, char **argv);
int cli_models(int argc, char **argv);

#endif
