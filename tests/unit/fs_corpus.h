/* fs_corpus: a known corpus for file search's ranking tests (test_fsearch.c
 * lexical, test_fs_hybrid.c hybrid): 26 one-sentence documents on distinct
 * topics, and one question per document in other words than its text
 * (stems shared, not phrases), each with its right document's name. */
#ifndef IA_TESTS_FS_CORPUS_H
#define IA_TESTS_FS_CORPUS_H

static const char *const CORPUS[][2] = {
    {"volcano", "Volcanoes erupt when magma rises through the crust; lava flows and ash clouds follow the eruption."},
    {"bees", "Honeybees dance to tell the hive where flowers are; the waggle dance encodes distance and direction."},
    {"chess", "The Sicilian Defence is a chess opening where Black answers the king's pawn with the c-pawn."},
    {"bread", "Sourdough bread rises with a wild yeast starter fed with flour and water for days before baking."},
    {"aqueduct", "Roman aqueducts carried water over arches for miles, sloping gently so gravity kept it flowing."},
    {"jazz", "A jazz saxophonist improvises over chord changes, bending notes with breath and embouchure."},
    {"glacier", "Glaciers carve U-shaped valleys as the moving ice grinds rock and leaves moraines behind."},
    {"crypto", "Public-key cryptography lets strangers agree on a secret: one key encrypts, only the private key decrypts."},
    {"tea", "The Japanese tea ceremony prepares matcha with a bamboo whisk in a quiet, choreographed ritual."},
    {"lighthouse", "A lighthouse keeper trimmed the lamp's wick nightly so ships could see the rocky coast."},
    {"reef", "Coral reefs bleach when warm water drives out the algae that feed the coral polyps."},
    {"origami", "Origami folds a single square of paper into cranes without cutting or glue."},
    {"marathon", "Marathon training builds mileage slowly, with a long run each week and tapering before the race."},
    {"solar", "Solar panels turn sunlight into electricity in silicon cells; an inverter makes alternating current."},
    {"castle", "Medieval castles had moats, drawbridges and thick curtain walls to hold off sieges."},
    {"penguin", "Emperor penguins huddle through the Antarctic winter while the males keep the egg on their feet."},
    {"violin", "A luthier carves a violin's spruce top and maple back, then varnishes the wood by hand."},
    {"cactus", "Desert cacti store water in swollen stems and grow spines instead of leaves to lose less water."},
    {"submarine", "A submarine navigates underwater by sonar and inertial guidance, surfacing rarely."},
    {"wine", "Wine ferments as yeast turns the grape sugar into alcohol, then ages in oak barrels."},
    {"comet", "A comet's orbit brings it near the Sun, where the ice sublimates into a glowing tail."},
    {"silk", "Caravans on the Silk Road traded silk, spices and paper between China and the Mediterranean."},
    {"knitting", "Knitting loops yarn with two needles; purl and knit stitches make ribbing."},
    {"railway", "Railway signals protect each block of track so that two trains never share one."},
    {"typewriter", "A typewriter strikes inked ribbon with a metal typebar for each key pressed."},
    {"telescope", "A reflecting telescope gathers starlight with a curved mirror instead of a lens."},
};
#define N_CORPUS (sizeof CORPUS / sizeof *CORPUS)

/* Questions in other words than the documents' (stems shared, not phrases),
 * each with its right document. */
static const char *const QUESTIONS[][2] = {
    {"what happens when a volcano erupts", "volcano"},
    {"how do bees tell others where the flowers are", "bees"},
    {"which chess opening answers with the c pawn", "chess"},
    {"how is a sourdough starter fed", "bread"},
    {"how did the romans carry water", "aqueduct"},
    {"saxophone improvisation over chords", "jazz"},
    {"how do glaciers shape a valley", "glacier"},
    {"how does a private key decrypt a message", "crypto"},
    {"whisk used for matcha", "tea"},
    {"who kept the lamp lit for ships", "lighthouse"},
    {"why does coral bleach", "reef"},
    {"folding paper cranes", "origami"},
    {"weekly long run before a race", "marathon"},
    {"turning sunlight into electricity", "solar"},
    {"castle walls against a siege", "castle"},
    {"penguins keeping eggs warm in winter", "penguin"},
    {"what wood is a violin made of", "violin"},
    {"how do cacti keep water", "cactus"},
    {"underwater navigation with sonar", "submarine"},
    {"yeast turning grape sugar into alcohol", "wine"},
    {"why does a comet have a tail", "comet"},
    {"trade of spices between china and the mediterranean", "silk"},
    {"purl and knit stitches", "knitting"},
    {"keeping trains apart on the track", "railway"},
    {"inked ribbon and typebars", "typewriter"},
    {"mirror that gathers starlight", "telescope"},
};
#define N_QUESTIONS (sizeof QUESTIONS / sizeof *QUESTIONS)

#endif
