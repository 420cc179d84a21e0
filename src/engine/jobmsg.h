/* jobmsg: deep copies of a job's messages and functions for the chat shim
 * (internal to src/engine/). */
#ifndef IA_ENGINE_JOBMSG_H
#define IA_ENGINE_JOBMSG_H

#include "engine/chat.h"
#include "engine/engine.h"

ia_chat_msg *ia_jobmsg_copy(const ia_engine_msg *msgs, size_t n);
void ia_jobmsg_free(ia_chat_msg *msgs, size_t n);
/* Every message's media parts in order, data copied (*n of them; NULL when
 * none). Freed by the job: each data, then the array. */
ia_engine_media *ia_jobmsg_copy_media(const ia_engine_msg *msgs, size_t n, size_t *n_media);
ia_chat_tool *ia_jobmsg_copy_tools(const ia_engine_tool *tools, size_t n); /* NULL when n == 0 */
void ia_jobmsg_free_tools(ia_chat_tool *tools, size_t n);

#endif
