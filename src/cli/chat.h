/* chat: `interactd chat MODEL [flags]`, a terminal chat with a running
 * server (chat.c says how it behaves). argv holds the arguments after
 * "chat"; returns the exit status. */
#ifndef IA_CLI_CHAT_H
#define IA_CLI_CHAT_H

int cli_chat(int argc, char **argv);

#endif
