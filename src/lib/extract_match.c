/*
 * extract_match.c - what the rule extractor recognises: the phrase tables, who a clause is
 * about, whether it is asserted, negated, hedged, asked or imagined, and how a value is cut
 * clean out of the words that follow a phrase.
 *
 * A sentence is split into clauses; each clause finds its subject (the user, "we", one of
 * the user's people, or an imperative aimed at the assistant), skips the auxiliaries and
 * adverbs of its verb group while noting negation, hedges and tense, then tries the phrase
 * tables at each position of the verb group. The first phrase that matches names the key;
 * the value is cut from the words after it, stopping at conjunctions, clause marks, dates
 * and (for names of things) prepositional tails. Tables are static const, so the extractor
 * has no mutable global state.
 */
#include <stdio.h>
#include <string.h>

#include "engram.h"
#include "lib/extract_int.h"

#define VBUF 256 /* > EG_VALUE_MAX plus a date suffix */

/* --- word lists ----------------------------------------------------------------------- */

static const char *const fillers[] = {
    ",", ":", "actually", "after", "ah", "alright", "also", "although", "and", "anyhow", "anyway",
    "anyways", "basically", "because", "before", "btw", "but", "cause", "fact", "fun", "fyi",
    "haha", "heh", "hello", "hey", "hi", "hmm", "honestly", "imo", "lmao", "lol", "news", "ngl",
    "note", "now", "oh", "oh,", "ok", "okay", "omg", "once", "plus", "ps", "quick", "right",
    "since", "so", "srsly", "sure", "tbh", "then", "though", "uh", "um", "update", "well",
    "whereas", "while", "yeah", "yep", "yes", "yo", NULL};

/* Auxiliaries and adverbs that may sit between the subject and the phrase. */
static const char *const vgroup[] = {
    "absolutely", "actually", "again", "all", "already", "also", "always", "am", "are",
    "basically", "be", "been", "being", "both", "can", "currently", "deathly", "definitely",
    "did", "do", "does", "even", "extremely", "finally", "full-time", "generally", "genuinely",
    "get", "got", "gotten", "had", "happily", "has", "have", "highly", "honestly", "is", "just",
    "kinda", "lately", "literally", "mainly", "mildly", "mostly", "newly", "now", "officially",
    "often", "only", "originally", "part-time", "personally", "pretty", "primarily", "proudly",
    "really", "recently", "remotely", "seriously", "severely", "since", "slightly", "so",
    "sometimes", "still", "super", "then", "too", "totally", "truly", "usually", "very", "was",
    "were", NULL};

/* Adverbs a phrase may carry in its middle ("I work remotely for ..."). */
static const char *const adverbs[] = {
    "actually", "almost", "also", "back", "currently", "exclusively", "finally", "full-time",
    "happily", "heavily", "just", "mainly", "mostly", "now", "officially", "part-time",
    "permanently", "pretty", "primarily", "really", "remotely", "still", "temporarily", NULL};

static const char *const hedges[] = {
    "considering", "could", "debating", "fence", "guess", "hopefully", "may", "maybe", "might",
    "perhaps", "possibly", "potentially", "probably", "thinking", "torn", "undecided", "unsure",
    "weighing", "wondering", NULL};

static const char *const be_forms[] = {
    "am", "are", "be", "been", "is", "was", "were", NULL};

static const char *const stop_all[] = {
    "actually", "again", "ago", "already", "also", "although", "and", "anymore", "anyway", "asap",
    "atm", "because", "btw", "but", "cause", "currently", "daily", "each", "either", "eventually",
    "ever", "every", "everyday", "exclusively", "fairly", "full-time", "fyi", "haha", "he",
    "hehe", "honestly", "hopefully", "i", "if", "imo", "lately", "later", "lmao", "lmk", "lol",
    "mainly", "maybe", "mostly", "ngl", "now", "nowadays", "occasionally", "or", "part-time",
    "please", "pretty", "primarily", "probably", "professionally", "quite", "really", "recently",
    "regularly", "remotely", "right", "rn", "she", "since", "so", "someday", "sometimes", "soon",
    "tbh", "than", "thank", "thanks", "that's", "then", "these", "they", "tho", "though", "till",
    "today", "tomorrow", "tonight", "too", "unless", "until", "we", "weekly", "well", "when",
    "where", "which", "while", "whilst", "who", "whom", "whose", "xd", "yesterday", "yet", "you", NULL};

static const char *const preps[] = {
    "about", "after", "are", "around", "as", "at", "based", "before", "but", "by", "called",
    "currently", "doing", "during", "focusing", "for", "from", "has", "have", "in", "into", "is",
    "like", "living", "located", "named", "near", "of", "on", "outside", "over", "specializing",
    "that", "through", "to", "under", "via", "was", "where", "who", "with", "working", NULL};

static const char *const pronouns[] = {
    "anything", "being", "doing", "everything", "her", "here", "him", "how", "it", "lot", "me",
    "myself", "nothing", "one", "so", "someone", "something", "stuff", "that", "them", "there",
    "these", "this", "those", "too", "us", "what", "you", NULL};

static const char *const relations[] = {
    "aunt", "baby", "bf", "boyfriend", "brother", "brothers", "child", "children", "cousin",
    "dad", "daughter", "daughters", "father", "father-in-law", "fiance", "fiancee", "fiancé",
    "gf", "girlfriend", "grandchildren", "granddaughter", "grandfather", "grandkids", "grandma",
    "grandmother", "grandpa", "grandparents", "grandson", "hubby", "husband", "in-laws", "kid",
    "kids", "mom", "mother", "mother-in-law", "mum", "nephew", "newborn", "niece", "parents",
    "partner", "sibling", "siblings", "sister", "sisters", "son", "sons", "spouse", "stepdad",
    "stepdaughter", "stepmom", "stepson", "teen", "teenager", "toddler", "twins", "uncle", "wife", NULL};

/* Other people who are not family: their facts are theirs, and they are not "family". */
static const char *const others[] = {
    "bestie", "boss", "buddy", "classmate", "client", "co-founder", "co-worker", "cofounder",
    "colleague", "colleagues", "coworker", "coworkers", "doctor", "ex", "flatmate", "friend",
    "friends", "landlord", "manager", "mentor", "neighbor", "neighbour", "roommate", "students",
    "teacher", "team", "teammate", "therapist", NULL};

static const char *const pets[] = {
    "beagle", "bird", "birds", "budgie", "budgies", "bulldog", "bunnies", "bunny", "cat", "cats",
    "chickens", "collie", "corgi", "dachshund", "dog", "dogs", "ducks", "ferret", "ferrets",
    "fish", "gecko", "geckos", "gerbil", "gerbils", "goats", "goldfish", "guinea", "hamster",
    "hamsters", "hens", "horse", "horses", "husky", "kitten", "kittens", "kitty", "lab",
    "labrador", "lizard", "lizards", "parrot", "parrots", "pig", "pigs", "poodle", "pup",
    "puppies", "puppy", "rabbit", "rabbits", "retriever", "shepherd", "snake", "snakes",
    "spaniel", "terrier", "tortoise", "tortoises", "turtle", "turtles", NULL};

static const char *const role_heads[] = {
    "accountant", "actor", "actress", "adjuster", "administrator", "advocate", "agent", "analyst",
    "anesthesiologist", "animator", "architect", "archivist", "artist", "assistant", "associate",
    "astronomer", "attorney", "auditor", "author", "baker", "banker", "barista", "bartender",
    "biologist", "blogger", "bookkeeper", "broker", "butcher", "buyer", "caregiver", "carpenter",
    "cashier", "ceo", "cfo", "chair", "chairman", "chauffeur", "chef", "chemist", "chief", "cio",
    "cleaner", "clerk", "cna", "co-founder", "coach", "cofounder", "comedian", "consultant",
    "contractor", "coo", "cook", "coordinator", "cop", "copywriter", "counsellor", "counselor",
    "courier", "cto", "curator", "dancer", "dean", "dentist", "designer", "dev", "developer",
    "devops", "dietitian", "director", "dispatcher", "dj", "doctor", "driver", "ecologist",
    "economist", "editor", "electrician", "emt", "engineer", "entrepreneur", "epidemiologist",
    "evangelist", "executive", "farmer", "firefighter", "florist", "foreman", "founder",
    "freelancer", "freshman", "gardener", "geologist", "grad", "groundskeeper", "guard",
    "hairdresser", "head", "historian", "housekeeper", "hygienist", "illustrator", "imam",
    "influencer", "instructor", "intern", "interpreter", "investor", "janitor", "jeweler",
    "journalist", "junior", "landscaper", "lawyer", "lead", "lecturer", "librarian", "lpn",
    "machinist", "manager", "marketer", "mason", "mathematician", "mechanic", "medic",
    "merchandiser", "midwife", "miner", "monk", "musician", "nanny", "np", "nun", "nurse",
    "nutritionist", "officer", "operator", "optometrist", "ot", "owner", "pa", "paralegal",
    "paramedic", "partner", "pastor", "pediatrician", "pharmacist", "phd", "phlebotomist",
    "photographer", "physician", "physicist", "physio", "physiotherapist", "pilot", "planner",
    "plasterer", "plumber", "pm", "policeman", "policewoman", "postdoc", "potter", "president",
    "priest", "principal", "producer", "professor", "programmer", "psychiatrist", "psychologist",
    "qa", "rabbi", "radiologist", "realtor", "receptionist", "recruiter", "rep", "representative",
    "researcher", "resident", "rn", "roofer", "sailor", "salesperson", "scientist", "scrum",
    "sculptor", "secretary", "senior", "singer", "slp", "sociologist", "soldier", "sonographer",
    "sophomore", "specialist", "sre", "statistician", "strategist", "streamer", "student",
    "stylist", "superintendent", "supervisor", "surgeon", "surveyor", "sysadmin", "tailor",
    "teacher", "technician", "technologist", "teller", "tester", "therapist", "trader", "trainer",
    "translator", "trucker", "tutor", "undergrad", "underwriter", "vet", "veterinarian",
    "volunteer", "vp", "waiter", "waitress", "welder", "writer", "youtuber", NULL};

/* Words after "I'm a/an" that are not roles even before a role head ("a huge fan"). */
static const char *const diets[] = {
    "carnivore", "celiac", "coeliac", "dairy-free", "flexitarian", "gluten-free", "halal", "keto",
    "kosher", "paleo", "pescatarian", "pescetarian", "plant-based", "sober", "teetotal", "vegan",
    "vegetarian", NULL};

static const char *const nationalities[] = {
    "american", "argentine", "argentinian", "aussie", "australian", "austrian", "bangladeshi",
    "belgian", "brazilian", "british", "bulgarian", "canadian", "chilean", "chinese", "colombian",
    "croatian", "cuban", "czech", "danish", "dutch", "egyptian", "emirati", "english", "estonian",
    "ethiopian", "filipino", "finnish", "french", "german", "ghanaian", "greek", "hungarian",
    "icelandic", "indian", "indonesian", "iranian", "irish", "israeli", "italian", "jamaican",
    "japanese", "kenyan", "kiwi", "korean", "latvian", "lebanese", "lithuanian", "malaysian",
    "mexican", "moroccan", "new", "nigerian", "norwegian", "pakistani", "persian", "peruvian",
    "polish", "portuguese", "romanian", "russian", "saudi", "scottish", "serbian", "singaporean",
    "slovak", "slovenian", "south", "spanish", "swedish", "swiss", "syrian", "taiwanese", "thai",
    "turkish", "ukrainian", "venezuelan", "vietnamese", "welsh", NULL};

static const char *const spoken[] = {
    "afrikaans", "amharic", "arabic", "asl", "basque", "bengali", "bsl", "bulgarian", "cantonese",
    "catalan", "chinese", "croatian", "czech", "danish", "dutch", "english", "esperanto", "farsi",
    "finnish", "french", "galician", "german", "greek", "gujarati", "hebrew", "hindi",
    "hungarian", "icelandic", "igbo", "indonesian", "irish", "italian", "japanese", "klingon",
    "korean", "latin", "malay", "mandarin", "marathi", "norwegian", "persian", "polish",
    "portuguese", "punjabi", "romanian", "russian", "serbian", "sign", "spanish", "swahili",
    "swedish", "tagalog", "tamil", "telugu", "thai", "turkish", "ukrainian", "urdu", "vietnamese",
    "welsh", "yiddish", "yoruba", "zulu", NULL};

/* Words that open a new clause after a comma. */
static const char *const starts[] = {
    "after", "also", "although", "always", "and", "answer", "anyway", "anyways", "are", "as",
    "avoid", "be", "because", "before", "btw", "but", "can", "could", "currently", "do", "does",
    "don't", "except", "finally", "haha", "he", "hello", "hey", "hi", "honestly", "how", "i",
    "if", "im", "is", "it", "just", "keep", "lol", "my", "never", "not", "now", "oh", "ok",
    "okay", "or", "otherwise", "our", "please", "plus", "ps", "recently", "reply", "respond",
    "she", "since", "so", "speaking", "still", "tbh", "thanks", "that", "then", "there", "they",
    "this", "though", "unless", "use", "we", "what", "when", "where", "whereas", "which", "while",
    "who", "will", "would", "yeah", "you", NULL};

/* Words that can begin a time expression (extract_date.c); a cheap gate before parsing. */
static const char *const datewords[] = {
    "a", "an", "apr", "april", "aug", "august", "before", "by", "couple", "dec", "december",
    "due", "eight", "eleven", "feb", "february", "few", "five", "four", "friday", "in", "jan",
    "january", "jul", "july", "jun", "june", "last", "mar", "march", "may", "monday", "next",
    "nine", "nov", "november", "oct", "october", "on", "one", "saturday", "sep", "sept",
    "september", "seven", "since", "six", "sunday", "ten", "the", "this", "three", "thursday",
    "till", "today", "tomorrow", "tonight", "tuesday", "twelve", "two", "until", "wednesday",
    "yesterday", "zero", NULL};

/*
 * Lower-case word -> how it is written, in three tables sorted by key (bytewise, for
 * binary search; eg_x_selftest() checks the order): programming languages, other
 * technologies, and everything else we capitalise (languages, nationalities, months,
 * acronyms).
 */
/* programming languages */
static const char *const prog_canon[][2] = {
    {"assembly", "assembly"}, {"bash", "Bash"}, {"c", "C"}, {"c#", "C#"}, {"c++", "C++"},
    {"clojure", "Clojure"}, {"cobol", "COBOL"}, {"cpp", "C++"}, {"crystal", "Crystal"},
    {"csharp", "C#"}, {"css", "CSS"}, {"dart", "Dart"}, {"delphi", "Delphi"},
    {"elixir", "Elixir"}, {"elm", "Elm"}, {"erlang", "Erlang"}, {"f#", "F#"},
    {"fortran", "Fortran"}, {"gleam", "Gleam"}, {"go", "Go"}, {"golang", "Go"},
    {"groovy", "Groovy"}, {"haskell", "Haskell"}, {"html", "HTML"}, {"java", "Java"},
    {"javascript", "JavaScript"}, {"js", "JavaScript"}, {"julia", "Julia"}, {"kotlin", "Kotlin"},
    {"lisp", "Lisp"}, {"lua", "Lua"}, {"matlab", "MATLAB"}, {"mojo", "Mojo"}, {"nim", "Nim"},
    {"objective-c", "Objective-C"}, {"ocaml", "OCaml"}, {"perl", "Perl"}, {"php", "PHP"},
    {"powershell", "PowerShell"}, {"prolog", "Prolog"}, {"python", "Python"}, {"r", "R"},
    {"racket", "Racket"}, {"ruby", "Ruby"}, {"rust", "Rust"}, {"sass", "Sass"},
    {"scala", "Scala"}, {"scheme", "Scheme"}, {"shell", "shell"}, {"solidity", "Solidity"},
    {"sql", "SQL"}, {"swift", "Swift"}, {"ts", "TypeScript"}, {"typescript", "TypeScript"},
    {"vb", "VB"}, {"verilog", "Verilog"}, {"vhdl", "VHDL"}, {"zig", "Zig"},
};
/* tools, platforms, frameworks, stores */
static const char *const tech_canon[][2] = {
    {"ai", "AI"}, {"android", "Android"}, {"angular", "Angular"}, {"ansible", "Ansible"},
    {"api", "API"}, {"arch", "Arch"}, {"aws", "AWS"}, {"azure", "Azure"}, {"blender", "Blender"},
    {"chatgpt", "ChatGPT"}, {"commonjs", "CommonJS"}, {"copilot", "Copilot"},
    {"debian", "Debian"}, {"django", "Django"}, {"docker", "Docker"}, {"emacs", "Emacs"},
    {"esm", "ESM"}, {"excel", "Excel"}, {"fastapi", "FastAPI"}, {"figma", "Figma"},
    {"flask", "Flask"}, {"gcp", "GCP"}, {"git", "Git"}, {"github", "GitHub"},
    {"gitlab", "GitLab"}, {"graphql", "GraphQL"}, {"intellij", "IntelliJ"}, {"ios", "iOS"},
    {"iphone", "iPhone"}, {"jenkins", "Jenkins"}, {"jira", "Jira"}, {"k8s", "Kubernetes"},
    {"kafka", "Kafka"}, {"kubernetes", "Kubernetes"}, {"linux", "Linux"}, {"mac", "Mac"},
    {"macos", "macOS"}, {"ml", "ML"}, {"mongodb", "MongoDB"}, {"mysql", "MySQL"},
    {"neovim", "Neovim"}, {"next.js", "Next.js"}, {"nextjs", "Next.js"}, {"node", "Node"},
    {"node.js", "Node.js"}, {"nodejs", "Node.js"}, {"notion", "Notion"}, {"nvim", "Neovim"},
    {"obsidian", "Obsidian"}, {"pandas", "pandas"}, {"photoshop", "Photoshop"},
    {"postgres", "Postgres"}, {"postgresql", "PostgreSQL"}, {"pycharm", "PyCharm"},
    {"pytorch", "PyTorch"}, {"rails", "Rails"}, {"react", "React"}, {"redis", "Redis"},
    {"slack", "Slack"}, {"spark", "Spark"}, {"sqlite", "SQLite"}, {"sublime", "Sublime"},
    {"svelte", "Svelte"}, {"tableau", "Tableau"}, {"tailwind", "Tailwind"},
    {"tensorflow", "TensorFlow"}, {"terraform", "Terraform"}, {"tmux", "tmux"},
    {"ubuntu", "Ubuntu"}, {"unity", "Unity"}, {"unreal", "Unreal"}, {"vim", "Vim"},
    {"vscode", "VS Code"}, {"vue", "Vue"}, {"webstorm", "WebStorm"}, {"windows", "Windows"},
    {"xcode", "Xcode"}, {"zsh", "zsh"},
};
/* languages, nationalities, days, months, acronyms */
static const char *const word_canon[][2] = {
    {"american", "American"}, {"april", "April"}, {"arabic", "Arabic"}, {"august", "August"},
    {"australian", "Australian"}, {"ba", "BA"}, {"bbc", "BBC"}, {"bengali", "Bengali"},
    {"brazilian", "Brazilian"}, {"british", "British"}, {"bsc", "BSc"}, {"canadian", "Canadian"},
    {"cantonese", "Cantonese"}, {"catalan", "Catalan"}, {"ceo", "CEO"}, {"cfo", "CFO"},
    {"chinese", "Chinese"}, {"cia", "CIA"}, {"coo", "COO"}, {"cto", "CTO"}, {"czech", "Czech"},
    {"danish", "Danish"}, {"dc", "DC"}, {"december", "December"}, {"dutch", "Dutch"},
    {"english", "English"}, {"eu", "EU"}, {"farsi", "Farsi"}, {"fbi", "FBI"},
    {"february", "February"}, {"finnish", "Finnish"}, {"french", "French"}, {"friday", "Friday"},
    {"german", "German"}, {"greek", "Greek"}, {"hebrew", "Hebrew"}, {"hindi", "Hindi"},
    {"hr", "HR"}, {"hungarian", "Hungarian"}, {"ibm", "IBM"}, {"indian", "Indian"},
    {"indonesian", "Indonesian"}, {"irish", "Irish"}, {"irs", "IRS"}, {"italian", "Italian"},
    {"january", "January"}, {"japanese", "Japanese"}, {"july", "July"}, {"june", "June"},
    {"korean", "Korean"}, {"la", "LA"}, {"latin", "Latin"}, {"ma", "MA"},
    {"mandarin", "Mandarin"}, {"mba", "MBA"}, {"mexican", "Mexican"}, {"mit", "MIT"},
    {"monday", "Monday"}, {"msc", "MSc"}, {"nasa", "NASA"}, {"nhs", "NHS"},
    {"norwegian", "Norwegian"}, {"november", "November"}, {"nyc", "NYC"}, {"nyu", "NYU"},
    {"october", "October"}, {"persian", "Persian"}, {"phd", "PhD"}, {"polish", "Polish"},
    {"portuguese", "Portuguese"}, {"punjabi", "Punjabi"}, {"qa", "QA"}, {"romanian", "Romanian"},
    {"russian", "Russian"}, {"saturday", "Saturday"}, {"scottish", "Scottish"},
    {"september", "September"}, {"sf", "SF"}, {"spanish", "Spanish"}, {"sre", "SRE"},
    {"sunday", "Sunday"}, {"swahili", "Swahili"}, {"swedish", "Swedish"}, {"tagalog", "Tagalog"},
    {"tamil", "Tamil"}, {"thai", "Thai"}, {"thursday", "Thursday"}, {"tuesday", "Tuesday"},
    {"turkish", "Turkish"}, {"uae", "UAE"}, {"ucla", "UCLA"}, {"ui", "UI"}, {"uk", "UK"},
    {"ukrainian", "Ukrainian"}, {"un", "UN"}, {"urdu", "Urdu"}, {"usa", "USA"}, {"usps", "USPS"},
    {"ux", "UX"}, {"vietnamese", "Vietnamese"}, {"vp", "VP"}, {"wednesday", "Wednesday"},
    {"welsh", "Welsh"},
};


static const char *const event_nouns[] = {
    "appointment", "call", "ceremony", "check-up", "checkup", "class", "concert", "conference",
    "date", "deadline", "demo", "exam", "flight", "funeral", "game", "gig", "graduation",
    "hackathon", "hearing", "interview", "launch", "lesson", "marathon", "match", "meeting",
    "operation", "party", "performance", "presentation", "procedure", "race", "recital",
    "retreat", "reunion", "review", "session", "show", "shower", "surgery", "test", "tournament",
    "trial", "webinar", "wedding", "workshop", NULL};

static const char *const trip_nouns[] = {
    "cruise", "getaway", "holiday", "holidays", "honeymoon", "road", "trip", "vacation", NULL};

static const char *const degree_words[] = {
    "associate's", "ba", "bachelor", "bachelor's", "bachelors", "bs", "bsc", "certificate",
    "degree", "diploma", "doctorate", "jd", "ma", "master", "master's", "masters", "mba", "md",
    "ms", "msc", "ph.d", "phd", NULL};

static const char *const base_verbs[] = {
    "adopt", "apply", "ask", "attend", "bake", "be", "become", "begin", "book", "build", "buy",
    "call", "celebrate", "change", "clean", "climb", "cook", "create", "defend", "do", "drive",
    "email", "enroll", "finally", "find", "finish", "fix", "fly", "focus", "get", "give", "go",
    "graduate", "have", "head", "help", "hike", "hire", "host", "install", "join", "keep",
    "launch", "learn", "leave", "look", "lose", "make", "marry", "meet", "migrate", "move",
    "open", "organize", "paint", "pay", "pick", "plan", "propose", "publish", "pursue", "quit",
    "read", "refactor", "register", "release", "relocate", "renovate", "rent", "retire",
    "rewrite", "run", "save", "see", "sell", "set", "ship", "sign", "spend", "start", "stay",
    "stop", "study", "submit", "swim", "switch", "take", "teach", "tell", "throw", "train",
    "travel", "try", "upgrade", "visit", "watch", "work", "wrap", "write", NULL};

static const char *const irregular_past[] = {
    "ate", "became", "began", "bought", "broke", "built", "caught", "did", "drank", "drove",
    "fell", "flew", "forgot", "found", "froze", "gave", "got", "had", "held", "hit", "hurt",
    "kept", "knew", "led", "left", "lost", "made", "met", "paid", "put", "quit", "ran", "read",
    "rode", "said", "sang", "saw", "sent", "shot", "slept", "sold", "spent", "spoke", "stole",
    "stood", "struck", "swam", "taught", "thought", "threw", "told", "took", "tore", "understood",
    "went", "woke", "won", "wore", "wrote", NULL};

static const char *const resp_nouns[] = {
    "answer", "answering", "answers", "code", "examples", "explain", "explanation",
    "explanations", "format", "formatting", "language", "message", "messages", "output",
    "outputs", "replies", "reply", "replying", "responding", "response", "responses", "snippets",
    "style", "summaries", "summary", "text", "tone", "writing", NULL};

/*
 * Word-list membership, memoised in the token: a sentence asks "is this a stop word?" of the
 * same token many times (once per phrase tried), and the answer never changes. The token
 * array is the caller's writable scratch (struct sent in extract_rules.c), so updating the
 * cache through a const view is sound; the const only keeps matching code from editing words.
 */
enum {
    L_FILLERS,
    L_VGROUP,
    L_HEDGES,
    L_BE_FORMS,
    L_STOP_ALL,
    L_PREPS,
    L_PRONOUNS,
    L_RELATIONS,
    L_OTHERS,
    L_PETS,
    L_ROLE_HEADS,
    L_DIETS,
    L_NATIONALITIES,
    L_SPOKEN,
    L_EVENT_NOUNS,
    L_TRIP_NOUNS,
    L_DEGREE_WORDS,
    L_BASE_VERBS,
    L_IRREGULAR_PAST,
    L_RESP_NOUNS,
    L_Q_WORDS,
    L_REQUEST_VERBS,
    L_HYPO_WORDS,
    L_ADVERBS,
    L_INSTR_VERBS,
    L_STARTS,
    L_DATEWORDS,
    L_COUNT
};

static const char *const *list_of(int id, size_t *out_n);

/* Binary search in a NULL-terminated list sorted bytewise (checked by eg_x_selftest). */
static int sorted_has(const char *const *l, size_t n, const char *w)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(l[mid], w);
        if (d == 0)
            return 1;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int inl(const struct eg_tok *t, int id)
{
    struct eg_tok *m = (struct eg_tok *)(uintptr_t)t;
    uint32_t bit = (uint32_t)1 << id;

    if (!(m->known & bit)) {
        m->known |= bit;
        size_t n;
        const char *const *l = list_of(id, &n);
        if (sorted_has(l, n, t->w))
            m->member |= bit;
    }
    return (m->member & bit) != 0;
}

/* --- clause state ----------------------------------------------------------------------- */

enum { SJ_NONE = 0, SJ_I, SJ_WE, SJ_OTHER };

struct cl {
    struct eg_xs *x;
    const struct eg_tok *t;
    int s, e; /* token range of the clause */
    int subj;
    char ename[EG_TOK_W * 2];
    int neg, ended, hedge, past, perfect, be, casual;
    struct eg_when when;
    int when_i, when_n; /* first date expression in the clause; when_n == 0 if none */
    int pat_s;          /* where the matched phrase began (for plan values) */
    int greeting;       /* "hey im jess": a lower-case word after a greeting is a name */
    int emitted;        /* facts offered to eg_x_emit: a phrase that yields none did not match */
};

static int tis(const struct cl *c, int i, const char *w)
{
    return i >= c->s && i < c->e && c->t[i].w[0] == w[0] && strcmp(c->t[i].w, w) == 0;
}

static int tin(const struct cl *c, int i, int list)
{
    return i >= c->s && i < c->e && inl(&c->t[i], list);
}

static const char *canon_in(const char *const (*tab)[2], size_t n, const char *w)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(tab[mid][0], w);
        if (d == 0)
            return tab[mid][1];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

#define CANON_IN(tab, w) canon_in(tab, sizeof(tab) / sizeof(tab[0]), w)

static int is_prog(const char *w)
{
    return CANON_IN(prog_canon, w) != NULL;
}

static int is_known_tech(const char *w)
{
    return is_prog(w) || CANON_IN(tech_canon, w) != NULL;
}

/* How w (lower case) is usually written, or NULL when we do not know the word. */
static const char *canon_of(const char *w)
{
    const char *r = CANON_IN(prog_canon, w);
    if (!r)
        r = CANON_IN(tech_canon, w);
    if (!r)
        r = CANON_IN(word_canon, w);
    return r;
}

/*
 * A noun that names a job: the list, or an occupational suffix ("cardiologist",
 * "pediatrician", "photographer", "pianist"), minus "-ist" words that describe a person
 * rather than a job ("perfectionist", "tourist").
 */
static int is_role_head(const struct cl *c, int i)
{
    static const char *const not_jobs[] = {
        "activist", "atheist", "capitalist", "centrist", "communist", "cyclist", "egoist",
        "elitist", "extremist", "feminist", "finalist", "hedonist", "humanist", "idealist",
        "leftist", "list", "loyalist", "minimalist", "narcissist", "nationalist", "optimist",
        "perfectionist", "pessimist", "purist", "racist", "realist", "separatist",
        "socialist", "tourist", NULL};
    const struct eg_tok *t;
    size_t n;

    if (i < c->s || i >= c->e)
        return 0;
    t = &c->t[i];
    if (inl(t, L_ROLE_HEADS))
        return 1;
    n = t->len;
#define ENDS(sfx) (n > sizeof(sfx) && memcmp(t->w + n - (sizeof(sfx) - 1), sfx, sizeof(sfx) - 1) == 0)
    if (ENDS("ologist") || ENDS("iatrist") || ENDS("ician") || ENDS("ographer"))
        return 1;
    if (ENDS("ist") && n > 5 && !eg_x_in(t, not_jobs))
        return 1;
#undef ENDS
    return 0;
}

static int is_past_word(const struct eg_tok *t)
{
    if (inl(t, L_IRREGULAR_PAST))
        return 1;
    /* "-ed" but not "need", "speed", "bed", "red" */
    return t->len > 3 && t->w[t->len - 2] == 'e' && t->w[t->len - 1] == 'd' &&
           t->w[t->len - 3] != 'e' && strcmp(t->w, "shed") != 0;
}

/* --- values ---------------------------------------------------------------------------- */

enum {
    VT_PLACE = 1, VT_ORG, VT_NAME, VT_ROLE, VT_LIST, VT_TECH, VT_TECHSTRICT, VT_LANG,
    VT_PHRASE, VT_TRIP, VT_TEXT, VT_PREF, VT_FROMTO, VT_JOIN, VT_LEAVE, VT_GOING, VT_HAVE,
    VT_VERBAL, VT_NONE, VT_BORN, VT_EDU, VT_DIETNEG, VT_FAV, VT_TEAM, VT_GOBY, VT_AGE,
    VT_VERBPHRASE, VT_LIKE, VT_TOPIC
};

/* Where does a value that starts at p end? Exclusive index. */
static int cut(const struct cl *c, int p, int vt)
{
    int i, max, words = 0;
    int named = vt == VT_PLACE || vt == VT_ORG || vt == VT_NAME || vt == VT_TEAM ||
                vt == VT_LANG || vt == VT_TECH || vt == VT_TECHSTRICT;

    switch (vt) {
    case VT_PLACE: max = 5; break;
    case VT_NAME: max = 4; break;
    case VT_ORG: case VT_TEAM: max = 6; break;
    case VT_ROLE: max = 7; break;
    case VT_LIST: case VT_TECH: case VT_TECHSTRICT: case VT_LANG: max = 6; break;
    default: max = 14; break;
    }
    for (i = p; i < c->e && words < max; i++, words++) {
        const struct eg_tok *t = &c->t[i];
        if (t->flags & TF_PUNCT)
            break;
        if (c->when_n && i == c->when_i)
            break;
        if (i > p && inl(t, L_STOP_ALL))
            break;
        if (i > p && (eg_x_is(t, "for") || eg_x_is(t, "since")) && i + 1 < c->e &&
            ((c->t[i + 1].flags & TF_NUM) || tis(c, i + 1, "the") ||
             tis(c, i + 1, "now") || tis(c, i + 1, "years") || tis(c, i + 1, "months") ||
             tis(c, i + 1, "ages") || tis(c, i + 1, "about") || tis(c, i + 1, "over") ||
             tis(c, i + 1, "two") || tis(c, i + 1, "three") || tis(c, i + 1, "several") ||
             tis(c, i + 1, "fun") || tis(c, i + 1, "work") || tis(c, i + 1, "everything") ||
             tis(c, i + 1, "like") || tis(c, i + 1, "almost") || tis(c, i + 1, "nearly") ||
             tis(c, i + 1, "ages") || tis(c, i + 1, "most") ||
             (tis(c, i + 1, "a") &&
              (tis(c, i + 2, "while") || tis(c, i + 2, "year") || tis(c, i + 2, "month") ||
               tis(c, i + 2, "week") || tis(c, i + 2, "few") || tis(c, i + 2, "couple") ||
               tis(c, i + 2, "bit") || tis(c, i + 2, "long") || tis(c, i + 2, "day") ||
               tis(c, i + 2, "decade"))) ||
             (eg_x_is(t, "for") && (vt == VT_LIST || vt == VT_LIKE) &&
              (tis(c, i + 1, "my") || tis(c, i + 1, "our") || tis(c, i + 1, "an") ||
               tis(c, i + 1, "school") || tis(c, i + 1, "business") ||
               tis(c, i + 1, "pleasure")))))
            break; /* "learning Italian for my trip" */
        if (i > p && (eg_x_is(t, "at") || eg_x_is(t, "around") || eg_x_is(t, "by")) &&
            i + 1 < c->e && c->t[i + 1].w[0] >= '0' && c->t[i + 1].w[0] <= '9' &&
            (!(c->t[i + 1].flags & TF_NUM) || tis(c, i + 2, "am") || tis(c, i + 2, "pm") ||
             i + 2 >= c->e || (c->t[i + 2].flags & TF_PUNCT) || c->t[i + 1].len <= 1 ||
             strchr(c->t[i + 1].w, ':')) && !(c->t[i + 1].len == 2 && tis(c, i - 1, "retire")))
            break; /* "at 3pm", "at 9:30", but not "retire at 55" */
        if (i > p && (vt == VT_LIST || vt == VT_LIKE) && eg_x_is(t, "to") && i + 1 < c->e &&
            tin(c, i + 1, L_BASE_VERBS))
            break; /* "learning Swift to build iOS apps" */
        if (i > p && vt == VT_LIST &&
            (eg_x_is(t, "at") || eg_x_is(t, "in") || eg_x_is(t, "on") || eg_x_is(t, "via") ||
             eg_x_is(t, "using") || eg_x_is(t, "through") || eg_x_is(t, "from")) &&
            i + 1 < c->e &&
            (c->t[i + 1].flags & TF_CAP) && !(c->t[i + 1].flags & TF_SYN))
            break; /* "studying law at King's College" */
        if (i > p && (eg_x_is(t, "in") || eg_x_is(t, "within") || eg_x_is(t, "over")) &&
            tis(c, i + 1, "the") &&
            (tis(c, i + 2, "next") || tis(c, i + 2, "coming") || tis(c, i + 2, "past") ||
             tis(c, i + 2, "last") || tis(c, i + 2, "future") || tis(c, i + 2, "meantime")))
            break; /* "buy a house in the next two years" */
        if (i > p && (eg_x_is(t, "by") || eg_x_is(t, "before") || eg_x_is(t, "until") ||
                      eg_x_is(t, "at")) &&
            tis(c, i + 1, "the") && (tis(c, i + 2, "end") || tis(c, i + 2, "start") ||
                                     tis(c, i + 2, "beginning")))
            break; /* "renew my lease by the end of the month" */
        if (i > p && (eg_x_is(t, "all") || eg_x_is(t, "every")) && i + 1 < c->e &&
            (tis(c, i + 1, "day") || tis(c, i + 1, "week") || tis(c, i + 1, "night") ||
             tis(c, i + 1, "the") || tis(c, i + 1, "year") || tis(c, i + 1, "morning")))
            break; /* "Vim and tmux all day" */
        if (i > p && eg_x_is(t, "on") && i + 1 < c->e &&
            (tis(c, i + 1, "weekends") || tis(c, i + 1, "weekdays") ||
             tis(c, i + 1, "sundays") || tis(c, i + 1, "saturdays") ||
             (tis(c, i + 1, "the") && tis(c, i + 2, "weekend"))) &&
            (vt == VT_LIST || vt == VT_PHRASE || vt == VT_LIKE))
            break; /* "gardening on weekends" */
        if (i > p && (eg_x_is(t, "at") || eg_x_is(t, "for") || eg_x_is(t, "after") ||
                      eg_x_is(t, "before")) &&
            i + 1 < c->e &&
            (tis(c, i + 1, "the") || tis(c, i + 1, "work") || tis(c, i + 1, "home") ||
             tis(c, i + 1, "school") || tis(c, i + 1, "night") || tis(c, i + 1, "now") ||
             tis(c, i + 1, "fun") || tis(c, i + 1, "lunch") || tis(c, i + 1, "dinner") ||
             tis(c, i + 1, "class") || tis(c, i + 1, "weekends") || tis(c, i + 1, "that") ||
             tis(c, i + 1, "this")) &&
            (vt == VT_LIST || vt == VT_PHRASE || vt == VT_LIKE || vt == VT_TEXT))
            break; /* "learning rust at the moment", "groceries after work" */
        if (i > p && (named || vt == VT_ROLE || vt == VT_TOPIC) && inl(t, L_PREPS)) {
            /* "Bank of America", "head of platform": "of" joins names and titles. */
            if (eg_x_is(t, "of") && (vt == VT_ROLE || (i + 1 < c->e &&
                                                       (c->t[i + 1].flags & TF_CAP))))
                continue;
            if ((eg_x_is(t, "and") || eg_x_is(t, "&")) && vt == VT_ORG && i + 1 < c->e &&
                (c->t[i + 1].flags & TF_CAP) && (c->t[i - 1].flags & TF_CAP))
                continue;
            break;
        }
        if (i > p && vt == VT_ORG && !(t->flags & TF_CAP) && (c->t[i - 1].flags & TF_CAP) &&
            t->len > 4 && strcmp(t->w + t->len - 3, "ing") == 0)
            break; /* "NYU studying film" */
        if (i > p && named && !(t->flags & TF_CAP) && (c->t[p].flags & TF_CAP) &&
            vt != VT_TECH && vt != VT_LANG && vt != VT_TECHSTRICT && t->len > 3 &&
            vt != VT_ORG)
            break; /* "London rocks": a capitalised name ends at a lower-case word */
        if (i > p && (vt == VT_PLACE || vt == VT_NAME) && (t->flags & TF_SYN))
            break;
        if (i > p && vt == VT_ROLE && t->len > 4 && t->w[t->len - 2] == 'e' &&
            t->w[t->len - 1] == 'd' && is_role_head(c, i - 1))
            break; /* "a security engineer focused on cloud" */
        if (i > p && vt == VT_ROLE && (t->flags & TF_NUM) && is_role_head(c, i - 1))
            break; /* "1. I'm a teacher 2. I live in Oslo" */
        if (i > p && vt == VT_ROLE && t->len > 4 && strcmp(t->w + t->len - 3, "ing") == 0 &&
            is_role_head(c, i - 1))
            break; /* "a grad student studying neuroscience" */
        if (i > p && vt == VT_NAME && !(t->flags & TF_CAP) && (c->t[p].flags & TF_CAP))
            break;
        if ((t->flags & TF_POSS) && named) {
            /* "Boston Children's Hospital" goes on; "Google's office" stops */
            if ((vt == VT_ORG || vt == VT_PLACE) && i + 1 < c->e &&
                (c->t[i + 1].flags & TF_CAP))
                continue;
            i++;
            break;
        }
    }
    return i;
}

static int lower_all(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return 0;
    return 1;
}

/*
 * Render tokens [a, b) as a clean value into v. Drops leading articles and possessives and
 * trailing function words; title-cases names written all in lower case ("i live in london"
 * -> "London"); writes known technologies and languages the usual way. Returns the length,
 * 0 when nothing is left worth keeping.
 */
static size_t render(const struct cl *c, int a, int b, int vt, char *v, size_t cap)
{
    static const char *const lead[] = {"a", "an", "the", "my", "our", "some", "this",
                                       "lots", "lot", "many", "all", "more", "of",
                                       "really", "very", "fluent", "basic", "conversational",
                                       "native", "little", "bit", "its", "his", "her",
                                       "their", "your", "to", "both", "either", NULL};
    static const char *const trail[] = {"the", "a", "an", "of", "to", "and", "in", "at",
                                        "with", "for", "my", "on", "from", "or", "is",
                                        "are", "was", "as", "by", "so", "just", "too",
                                        "very", "now", "fluently", "well", "lot", "daily",
                                        NULL};
    size_t n = 0;
    int i, title, named = vt == VT_PLACE || vt == VT_ORG || vt == VT_NAME ||
                          vt == VT_TEAM || vt == VT_LANG || vt == VT_TECH ||
                          vt == VT_TECHSTRICT;

    while (a < b) {
        const struct eg_tok *t = &c->t[a];
        if (!eg_x_in(t, lead) || (t->flags & TF_CAP && eg_x_is(t, "the") && vt == VT_ORG))
            break;
        if ((eg_x_is(t, "my") || eg_x_is(t, "our")) && (vt == VT_PHRASE || vt == VT_LIST) &&
            a + 1 < b && inl(&c->t[a + 1], L_RELATIONS))
            return 0; /* "I love my wife": not a like, a family member */
        a++;
    }
    while (b > a && (eg_x_in(&c->t[b - 1], trail) || (c->t[b - 1].flags & TF_PUNCT)))
        b--;
    if (a >= b)
        return 0;
    if (b - a == 1 && inl(&c->t[a], L_PRONOUNS) &&
        !(c->t[a].e - c->t[a].s == 2 && c->x->text[c->t[a].s] == 'U' &&
          c->x->text[c->t[a].s + 1] == 'S'))
        return 0; /* a pronoun, but "the US" is a place */
    if (inl(&c->t[a], L_PRONOUNS) && !eg_x_is(&c->t[a], "one") &&
        !(c->t[a].e - c->t[a].s == 2 && c->x->text[c->t[a].s] == 'U' &&
          c->x->text[c->t[a].s + 1] == 'S') &&
        !(eg_x_is(&c->t[a], "how") && a + 1 < b && eg_x_is(&c->t[a + 1], "to")))
        return 0;
    title = named && lower_all(c->x->text + c->t[a].s, c->t[b - 1].e - c->t[a].s);
    for (i = a; i < b; i++) {
        const struct eg_tok *t = &c->t[i];
        const char *src = c->x->text + t->s;
        size_t len = t->e - t->s;
        const char *ci;

        if (i > a && t->s == c->t[i - 1].s)
            continue; /* second half of a contraction: same source bytes */
        if (n && i > a) {
            /* Keep "Dr. Smith" and "St. Mary's" as written: copy a short gap of spaces and
             * periods from the source; anything else becomes one space. */
            const char *g = c->x->text + c->t[i - 1].e;
            size_t gl = t->s - c->t[i - 1].e, k;
            int plain = gl >= 1 && gl <= 3;
            for (k = 0; plain && k < gl; k++)
                if (g[k] != ' ' && g[k] != '.')
                    plain = 0;
            if (plain && n + gl < cap) {
                memcpy(v + n, g, gl);
                n += gl;
            } else if (n + 1 < cap) {
                v[n++] = ' ';
            }
        } else if (n && n + 1 < cap) {
            v[n++] = ' ';
        }
        ci = (t->flags & TF_LONG) ? NULL : canon_of(t->w);
        /* Only rewrite the spelling of a word written all in lower case. */
        if (ci && lower_all(src, len) && (named || vt == VT_LIST || vt == VT_PREF ||
                                                vt == VT_ROLE || vt == VT_PHRASE) &&
            !(vt == VT_PHRASE && strlen(ci) == 1)) {
            src = ci;
            len = strlen(src);
        } else if (t->flags & TF_POSS && i == b - 1 && named) {
            /* "Google's" at the end of a name: drop the possessive. */
        }
        if (n + len >= cap)
            return 0;
        memcpy(v + n, src, len);
        if (title && !ci && v[n] >= 'a' && v[n] <= 'z' &&
            !(i > a && (eg_x_is(t, "of") || eg_x_is(t, "and") || eg_x_is(t, "the") ||
                        eg_x_is(t, "de") || eg_x_is(t, "la"))))
            v[n] = (char)(v[n] - 32);
        n += len;
    }
    while (n && (v[n - 1] == '\'' || v[n - 1] == '.' || v[n - 1] == '-'))
        n--;
    if (n >= 2 && v[n - 2] == '\'' && v[n - 1] == 's' && named)
        n -= 2;
    v[n] = '\0';
    return n;
}

/* --- emitting --------------------------------------------------------------------------- */

static int key_is(const char *key, const char *const *l)
{
    for (; *l; l++)
        if (strcmp(key, *l) == 0)
            return 1;
    return 0;
}

static const char *const dated_keys[] = {"trips", "plans", "events", "tasks", "goals", NULL};
static const char *const state_keys[] = {"location", "employer", "role", "team", "diet",
                                         "nationality", "education", NULL};
static const char *const other_keys[] = {"location", "employer", "role", "age", "birthday",
                                         "name", "diet", "allergies", "hometown", "education",
                                         "languages", "likes", "dislikes", "expertise",
                                         "nationality", "team", NULL};
static const char *const we_keys[] = {"location", "projects", "trips", "events", "plans", "family",
                                      "pets", "tools", "programming_languages", "goals",
                                      "tasks", "hometown", NULL};

static void out(struct cl *c, int op, const char *key, const char *val, size_t vl,
                const char *prev, size_t pl, int vend)
{
    char buf[VBUF], d[16];
    int64_t vf = 0, vu = 0;
    double conf = c->casual ? 0.7 : 0.9;
    const char *ename = NULL;
    int64_t today = c->x->turn_ms - (c->x->turn_ms % 86400000LL);

    if (c->x->rc != ENGRAM_OK)
        return;
    c->emitted++;
    if (c->subj == SJ_OTHER) {
        if (!key_is(key, other_keys))
            return;
        ename = c->ename;
    }
    if (c->subj == SJ_WE && !key_is(key, we_keys))
        return;
    if (c->hedge) {
        op = EG_FACT_HEDGE;
        conf = 0.4;
    }
    if (c->when_n && val) {
        int future = c->when.ms > today;
        if (key_is(key, dated_keys)) {
            size_t dl = (size_t)eg_x_date_fmt(&c->when, d, sizeof(d));
            if (vl + dl + 3 < sizeof(buf)) {
                memcpy(buf, val, vl);
                buf[vl] = ' ';
                buf[vl + 1] = '(';
                memcpy(buf + vl + 2, d, dl);
                buf[vl + 2 + dl] = ')';
                vl += dl + 3;
                val = buf;
            }
        } else if (c->when.kind == 2) {
            vu = c->when.ms;
        } else if (future && op == EG_FACT_ASSERT && key_is(key, state_keys) &&
                   c->subj != SJ_OTHER && c->pat_s >= 0 && vend > c->pat_s) {
            /* "I'm moving to Berlin next month" is a plan, not where they live today. */
            size_t dl = (size_t)eg_x_date_fmt(&c->when, d, sizeof(d));
            const struct eg_tok *a = &c->t[c->pat_s], *z = &c->t[vend - 1];
            size_t sl = z->e - a->s;
            if (sl + dl + 3 < sizeof(buf)) {
                memcpy(buf, c->x->text + a->s, sl);
                buf[sl] = ' ';
                buf[sl + 1] = '(';
                memcpy(buf + sl + 2, d, dl);
                buf[sl + 2 + dl] = ')';
                eg_x_emit(c->x, EG_FACT_ASSERT, "plans", "Person", NULL, buf, sl + dl + 3,
                          NULL, 0, conf, 0, 0);
            }
            return;
        } else if (!future || c->when.kind == 1) {
            vf = c->when.ms;
        }
    }
    eg_x_emit(c->x, op, key, "Person", ename, val, vl, prev, pl, conf, vf, vu);
}

/* Cut, render and emit one value starting at p; returns where it ended (p if nothing). */
static int value(struct cl *c, int op, const char *key, int p, int vt)
{
    char v[VBUF];
    int end = cut(c, p, vt);
    size_t n = render(c, p, end, vt, v, sizeof(v));

    if (n)
        out(c, op, key, v, n, NULL, 0, end);
    return end;
}

/* Gerund for "I like to hike" -> "hiking"; good enough for the common verbs. */
static size_t gerund(const char *w, size_t n, char *o, size_t cap)
{
    size_t k = n;
    if (n + 5 >= cap || n == 0)
        return 0;
    memcpy(o, w, n);
    if (n > 2 && w[n - 1] == 'e' && w[n - 2] != 'e')
        k = n - 1;
    else if (n >= 3 && n <= 4 && strchr("aeiou", w[n - 2]) && !strchr("aeiou", w[n - 3]) &&
             !strchr("aeiouwxy", w[n - 1]))
        o[k++] = w[n - 1];
    memcpy(o + k, "ing", 3);
    return k + 3;
}

/*
 * A list of values ("English, French and Spanish"): each item is cut and emitted alone.
 * For VT_TECH items, a programming language goes to programming_languages.
 */
static int list(struct cl *c, int op, const char *key, int p, int vt)
{
    int items = 0, end = p;
    char v[VBUF];

    /* "fluent in three languages: English, Russian and Hebrew" */
    if (vt == VT_LANG && p + 2 < c->e && tis(c, p + 1, "languages") && tis(c, p + 2, ":"))
        p += 3;
    while (p < c->e && items < 8) {
        int e = cut(c, p, vt), q;
        size_t n;
        const char *k = key;

        /* "I like to hike" -> "hiking", "learning to bake bread" -> "baking bread" */
        if (tis(c, p, "to") && e >= p + 2 && (vt == VT_LIST || vt == VT_LIKE) &&
            !(c->t[p + 1].flags & TF_CAP)) {
            n = gerund(c->t[p + 1].w, c->t[p + 1].len, v, sizeof(v));
            if (n && e > p + 2) {
                size_t m = render(c, p + 2, e, VT_PHRASE, v + n + 1, sizeof(v) - n - 1);
                if (m)
                    v[n] = ' ', n += m + 1;
            }
            if (n)
                out(c, op, key, v, n, NULL, 0, e);
            end = e;
            items++;
            goto next;
        }
        n = render(c, p, e, vt, v, sizeof(v));
        if (n && (vt == VT_TECH || vt == VT_TECHSTRICT) &&
            (tis(c, p, "on") || tis(c, p, "in") || tis(c, p, "at") || tis(c, p, "to") ||
             tis(c, p, "for") || tis(c, p, "with")))
            n = 0; /* "gave up on learning Japanese" is no tool */
        if (n && (vt == VT_LIKE) && (tis(c, p, "my") || tis(c, p, "our")))
            n = 0; /* "I love my job": about the job, not a taste we can name */
        if (n && (vt == VT_TECH || vt == VT_TECHSTRICT)) {
            int j, known = 0, prog = 0;
            for (j = p; j < e; j++) {
                if (is_prog(c->t[j].w) && !(tis(c, j, "go") && !(c->t[j].flags & TF_CAP) &&
                                           e - p > 1))
                    prog = 1;
                if (is_known_tech(c->t[j].w) || (c->t[j].flags & TF_CAP))
                    known = 1;
                if (eg_x_is(&c->t[j], "pronouns"))
                    k = "pronouns";
            }
            if (prog && e - p <= 2)
                k = "programming_languages";
            if (strcmp(k, "programming_languages") != 0 && n < EG_TOK_W) {
                /* "a bit of Python": judge the value, not the words around it */
                char low[EG_TOK_W];
                size_t z;
                for (z = 0; z < n; z++)
                    low[z] = (char)(v[z] >= 'A' && v[z] <= 'Z' ? v[z] + 32 : v[z]);
                low[n] = '\0';
                if (is_prog(low))
                    k = "programming_languages";
            }
            if (vt == VT_TECHSTRICT && !known)
                n = 0;
            if (strcmp(k, "pronouns") == 0) {
                n = render(c, p, e - 1, VT_TEXT, v, sizeof(v));
            }
        }
        if (n && vt == VT_LANG) {
            /* Keep only real language names: "I speak to my mom daily" is not a language. */
            int j, ok = 0;
            for (j = p; j < e; j++)
                if (inl(&c->t[j], L_SPOKEN))
                    ok = 1;
            if (!ok)
                n = 0;
        }
        if (n && (vt == VT_LIST || vt == VT_LIKE) &&
            (strcmp(key, "likes") == 0 || strcmp(key, "preferences") == 0)) {
            /* "I like tea more than coffee" is a preference. */
            for (q = p; q < e; q++)
                if ((tis(c, q, "more") || tis(c, q, "better")) && tis(c, q + 1, "than"))
                    break;
            if (q < e || (e < c->e && (tis(c, e, "more") || tis(c, e, "better")) &&
                          tis(c, e + 1, "than"))) {
                int a2 = (q < e ? q : e) + 2, b2 = cut(c, a2, VT_LIST);
                char w2[VBUF];
                size_t n1 = render(c, p, q < e ? q : e, VT_LIST, v, sizeof(v));
                size_t n2 = render(c, a2, b2, VT_LIST, w2, sizeof(w2));
                if (n1 && n2 && n1 + n2 + 6 < sizeof(v)) {
                    memcpy(v + n1, " over ", 6);
                    memcpy(v + n1 + 6, w2, n2);
                    out(c, op, "preferences", v, n1 + n2 + 6, NULL, 0, b2);
                }
                return b2;
            }
        }
        if (n)
            out(c, op, k, v, n, NULL, 0, e);
        end = e;
        items++;
    next:
        /* "Obsidian for notes and Todoist for tasks": skip the short purpose phrase */
        if (vt == VT_TECH && e < c->e && (tis(c, e, "for") || tis(c, e, "at") ||
                                           tis(c, e, "on") || tis(c, e, "in"))) {
            int j;
            for (j = e + 1; j + 1 < c->e && j < e + 5; j++)
                if ((tis(c, j, "and") || tis(c, j, ",")) &&
                    ((c->t[j + 1].flags & TF_CAP) || is_known_tech(c->t[j + 1].w)) &&
                    !tis(c, j + 1, "i"))
                    break;
            if (j + 1 < c->e && j < e + 5 && (tis(c, j, "and") || tis(c, j, ","))) {
                p = j + 1;
                continue;
            }
        }
        /* Another item follows only after a list mark that is not a new clause. */
        if (e < c->e && (tis(c, e, ",") || tis(c, e, "and") || tis(c, e, "or") ||
                         tis(c, e, "&"))) {
            q = e + 1;
            if (tis(c, q, "and") || tis(c, q, "or"))
                q++;
            if (q >= c->e || tin(c, q, L_STOP_ALL) || (c->t[q].flags & TF_PUNCT))
                break;
            if (tis(c, q, "also") || tis(c, q, "am") || tis(c, q, "is"))
                break;
            /* "... and joined Meta": a verb starts a new phrase, not an item. */
            if (is_past_word(&c->t[q]) || (c->t[q].len > 4 &&
                                           strcmp(c->t[q].w + c->t[q].len - 3, "ing") == 0 &&
                                           vt != VT_LIST && vt != VT_LIKE))
                break;
            p = q;
            continue;
        }
        break;
    }
    return end;
}

/* --- phrase tables ---------------------------------------------------------------------- */

enum {
    PF_NEG = 1,    /* the phrase itself ends something: NEGATE */
    PF_3P = 2,     /* also for the user's people ("my sister lives in Paris") */
    PF_BE = 4,     /* only after a form of "be" ("I'm from", not "a gift from") */
    PF_ROLEAT = 8, /* after the value, "at X" names the employer, "as a Y" the role */
    PF_PAST = 16,  /* a past form: a fact only with "have" ("I've lived in") */
    PF_CASUAL = 32 /* a weaker reading: lower confidence */
};

struct pat {
    const char *seq; /* words; "a|b" alternatives; a leading '?' makes a word optional */
    const char *key;
    unsigned char vt;
    unsigned char fl;
    /* The first two letters of each alternative of the first word, concatenated ("*" =
     * any; a one-letter word is padded with a space), so most phrases are skipped without
     * walking seq; eg_x_selftest() checks it agrees with seq. */
    const char *lead;
};

/* Tried in order at each position of the verb group; the first match wins. */
static const struct pat after_subject[] = {
    /* future and wishes first, so "want to move to Berlin" is a goal, not a move */
    {"would|will like|love to", "goals", VT_PHRASE, 0, "wiwo"},
    {"want|wants|wanted|hope|hoping|hopes|aim|aiming|aspire|dream|dreaming to|of", "goals",
     VT_PHRASE, 0, "aiasdrhowa"},
    {"trying|try|started|start|starting|began|begun|keep ?to learn|learning|study|studying",
     "learning", VT_LIST, 0, "bekesttr"},
    {"trying|try|tries|attempting|working|striving to", "goals", VT_PHRASE, 0, "atsttrwo"},
    {"plan|plans|planning|intend|intending|intends|about|aiming|scheduled|hoping to|on",
     "plans", VT_PHRASE, 0, "abaihoinplsc"},
    {"must", "tasks", VT_PHRASE, 0, "mu"},
    {"need|needs|have|has|got|must|should|gotta to", "tasks", VT_PHRASE, 0, "gohamunesh"},
    {"going|gonna|headed|heading|off|flying|travelling|traveling|driving|jetting to|for",
     "*going", VT_GOING, 0, "drflgohejeoftr"},
    {"back|returned|home from", "trips", VT_TRIP, 0, "bahore"},
    {"will|shall be in|at|visiting", "trips", VT_TRIP, 0, "shwi"},
    {"visiting|visit|touring|exploring|backpacking|backpack|tour", "*going", VT_GOING, 0, "baextovi"},
    {"planning|plan|booked|booking|taking|take|going|go|have|got ?on ?a|an ?big|little|short|long|quick|road|family|business|work|weekend|ski trip|vacation|holiday|getaway|trips to|in",
     "trips", VT_TRIP, 0, "bogohaplta"},
    {"moved|relocated|switched|migrated|changed|transferred|went from", "*fromto", VT_FROMTO,
     PF_3P, "chmimoreswtrwe"},
    {"switch|switching|switched|migrate|migrating|migrated ?over|back to", "tools",
     VT_TECHSTRICT, 0, "misw"},
    {"move|moving|relocate|relocating|moved|relocated|moves|transferred|transferring ?back to",
     "location", VT_PLACE, PF_3P, "moretr"},
    {"live|lives|living|reside|resides|residing|stay|staying|settled|based|located in|at|near|outside|out",
     "location", VT_PLACE, PF_3P, "baliloresest"},
    {"lived in|at|near", "location", VT_PLACE, PF_3P | PF_PAST, "li"},
    {"live|lives|living with", "location", VT_PLACE, PF_3P, "li"},
    {"grew|grow up in|near", "hometown", VT_PLACE, PF_3P, "gr"},
    {"was|were born and raised in", "hometown", VT_PLACE, PF_3P, "wawe"},
    {"raised|born in|on", "*born", VT_BORN, PF_3P, "bora"},
    {"come|comes|hail|hails from", "hometown", VT_PLACE, PF_3P, "coha"},
    {"from", "hometown", VT_PLACE, PF_3P | PF_BE, "fr"},
    {"called|named", "name", VT_NAME, PF_3P | PF_BE, "cana"},
    {"go|goes by", "*goby", VT_GOBY, 0, "go"},
    {"turned|turn", "age", VT_AGE, PF_3P, "tu"},
    /* work */
    {"work|works|working|employed|contracting|consulting|interning at|for|by",
     "employer", VT_ORG, PF_3P | PF_ROLEAT, "coeminwo"},
    {"worked at|for", "employer", VT_ORG, PF_3P | PF_ROLEAT | PF_PAST, "wo"},
    {"work|works|working|am in|on|with the", "team", VT_TEAM, PF_3P | PF_ROLEAT, "amwo"},
    {"work|works|working|worked|serve|serves|started|start|employed|hired|contracting as|as",
     "role", VT_ROLE,
     PF_3P | PF_ROLEAT, "coemhisestwo"},
    {"got|landed|accepted|took|take|started|start|starting|found|have|got|received|for a|an|the ?new job|position|role|offer|gig|internship at|with|from",
     "employer", VT_ORG, PF_ROLEAT, "acfogohalaresttato"},
    {"started|start|starting|began at", "employer", VT_ORG, PF_ROLEAT | PF_3P, "best"},
    {"got|landed|accepted|took|take|started|start|starting|found|have a|an|the ?new job|position|role|gig as",
     "role", VT_ROLE, PF_ROLEAT, "acfogohalasttato"},
    {"hired|employed at|by", "employer", VT_ORG, PF_ROLEAT, "emhi"},
    {"joined|joining|join", "*join", VT_JOIN, PF_3P, "jo"},
    {"left|quit|quitting|leaving|leave|resigned ?from", "*leave", VT_LEAVE, 0, "lequre"},
    {"laid|let off|go", "employer", VT_NONE, PF_NEG, "lale"},
    {"fired|sacked", "employer", VT_NONE, PF_NEG, "fisa"},
    {"?a promoted|promotion to", "role", VT_ROLE, PF_3P | PF_ROLEAT, "*"},
    {"became|become|becoming a|an", "role", VT_ROLE, PF_3P | PF_ROLEAT, "be"},
    {"founded|co-founded|cofounded|started|run|own|runs|owns a? company|startup|business called|named",
     "employer", VT_ORG, 0, "cofoowrust"},
    {"founded|co-founded|cofounded", "employer", VT_ORG, 0, "cofo"},
    {"teach|teaches|teaching at", "employer", VT_ORG, PF_3P, "te"},
    /* education */
    {"graduated|graduate from", "education", VT_ORG, PF_3P, "gr"},
    {"studied|majored|major|majoring|graduated|graduating ?in", "education", VT_EDU, PF_3P, "grmast"},
    {"went to|attended college|university|school|uni|grad at", "education", VT_ORG, 0, "we"},
    /* people and pets */
    {"got|get|getting married|engaged|divorced|hitched", "events", VT_VERBAL, 0, "gego"},
    {"had|have a baby|son|daughter", "events", VT_VERBAL, 0, "ha"},
    {"have|has|got|own|owns|adopted|rescued|adopt|adopting|doing|pursuing|completing", "*have",
     VT_HAVE, PF_3P, "adcodogohaowpure"},
    {"did|doing|do|completed|finished|got ?my|a|an|the undergrad|degree|masters|master's|bachelor's|phd|mba|ba|bsc|msc|ma|ms|bs|doctorate at|from",
     "education", VT_ORG, PF_3P, "codidofigo"},
    {"lead|leads|leading|manage|manages|managing|run|runs|running|head|heads|heading|direct|directs|oversee|oversees ?the",
     "team", VT_TEAM, PF_3P | PF_ROLEAT, "dihelemaovru"},
    /* diet and health */
    {"stopped|stop|quit|quitting|gave|give ?up eating|drinking", "diet", VT_DIETNEG, PF_NEG, "gagiqust"},
    {"eat|eats|drink|drinks|eating", "diet", VT_DIETNEG, 0, "drea"},
    {"went|gone|going|turned|switched|go|became|become|becoming vegan|vegetarian|pescatarian|keto|plant-based|paleo",
     "diet", VT_VERBAL, 0, "begoswtuwe"},
    {"follow|follows|following|on a|an|the", "diet", VT_TEXT, 0, "foon"},
    {"allergic to", "allergies", VT_LIST, PF_3P, "al"},
    /* languages */
    {"speak|speaks|speaking|understand|read", "languages", VT_LANG, PF_3P, "respun"},
    {"fluent|bilingual|conversational|proficient in", "languages", VT_LANG, PF_3P, "bicoflpr"},
    /* knowledge */
    {"specialize|specialise|specializes|specialises|specializing|specialising|specialized in",
     "expertise", VT_LIST, PF_3P, "sp"},
    {"expert|experienced|skilled|proficient|good|great|excellent|strong|knowledgeable at|in|with|on",
     "expertise", VT_LIST, PF_3P, "exgogrknprskst"},
    {"prefer|prefers|preferred", "preferences", VT_PREF, 0, "pr"},
    {"would rather|sooner", "preferences", VT_PREF, 0, "wo"},
    {"stopped|stop|quit|quitting|gave|give ?up ?on learning|studying|learn", "learning", VT_LIST,
     PF_NEG, "gagiqust"},
    {"stopped|stop|quit|quitting|gave|give|stopping using|use|up", "tools", VT_TECH, PF_NEG, "gagiqust"},
    {"use|uses|using|rely|relying ?on|with", "tools", VT_TECH, 0, "reus"},
    {"code|coding|program|programming|develop|developing|write|writes|writing|work|works|working in",
     "programming_languages", VT_TECHSTRICT, 0, "codeprwowr"},
    {"work|works|working with", "tools", VT_TECHSTRICT, 0, "wo"},
    {"write|writes|writing|know|knows|learned|learnt|mastered", "tools", VT_TECHSTRICT, 0, "knlemawr"},
    {"learning|learn|learns|learnt|studying|study|practicing|practising", "learning", VT_LIST,
     0, "leprst"},
    {"taking|take|started|doing|began ?taking ?a|an|some ?online", "learning", VT_TEXT, 0, "bedostta"},
    {"love|loves|like|likes|enjoy|enjoys|adore|adores|dig|fancy|into|obsessed|crazy|passionate|fond ?with|about|of",
     "likes", VT_LIKE, PF_3P, "adcrdienfafoinliloobpa"},
    {"loved|liked|enjoyed|adored", "likes", VT_LIKE, PF_3P | PF_PAST, "adenlilo"},
    {"?huge|big|massive|great|total|die-hard|diehard fan|fans of", "likes", VT_LIKE, PF_3P, "*"},
    {"hate|hates|dislike|dislikes|detest|despise|loathe|stand|abhor", "dislikes", VT_LIKE,
     PF_3P, "abdedihalost"},
    /* projects */
    {"shipped|launched|released|finished|completed|wrapped|delivered|submitted|published|closed|sunset ?up|off|out",
     "projects", VT_PHRASE, PF_NEG, "clcodefilapureshsuwr"},
    {"done|finished|through with", "projects", VT_PHRASE, PF_NEG | PF_BE, "dofith"},
    {"working|work|works on", "projects", VT_PHRASE, 0, "wo"},
    {"building|developing|writing|designing|leading|running|creating|organizing|organising|launching|migrating|refactoring|rewriting|prototyping|researching|drafting|making|coding|hacking|setting|putting|spearheading|managing|renovating|training|redesigning|rebuilding|revamping|overhauling|implementing|restructuring|automating|producing|recording|editing|composing|painting|knitting|restoring|remodeling|remodelling|founding|starting|preparing|fixing|debugging|deploying|documenting|translating|illustrating|directing|filming|curating|coordinating|hosting|mentoring ?up|on|together|for",
     "projects", VT_PHRASE, PF_BE, "aubucocrcudedidodredfifohahoilimknlalemamemiorovpaprpurerusespsttrwr"},
    {"saving ?up for", "goals", VT_PHRASE, PF_BE, "sa"},
    {NULL, NULL, 0, 0, NULL}};

/* Phrases that start at "my" / "our" at the head of a clause. */
static const struct pat after_my[] = {
    {"my name is", "name", VT_NAME, 0, NULL},
    {"my full|real|first|legal|nick name|nickname is", "name", VT_NAME, 0, NULL},
    {"my nickname is", "name", VT_NAME, 0, NULL},
    {"my age is", "age", VT_AGE, 0, NULL},
    {"my birthday|bday|birthdate|dob is ?on", "birthday", VT_TEXT, 0, NULL},
    {"my pronouns are|is", "pronouns", VT_TEXT, 0, NULL},
    {"my job|role|title|position|occupation|profession|day is|job", "role", VT_ROLE, PF_ROLEAT, NULL},
    {"my job title is", "role", VT_ROLE, PF_ROLEAT, NULL},
    {"my employer|company|workplace is", "employer", VT_ORG, 0, NULL},
    {"my team is ?called|named", "team", VT_ORG, 0, NULL},
    {"my hometown|birthplace is", "hometown", VT_PLACE, 0, NULL},
    {"my home is in", "location", VT_PLACE, 0, NULL},
    {"my native|first|mother|main language|tongue is|are", "languages", VT_LANG, 0, NULL},
    {"my favorite", "*fav", VT_FAV, 0, NULL},
    {"my hobbies|hobby|passion|passions are|is|include", "likes", VT_LIST, 0, NULL},
    {"my goal|goals|dream|aim|ambition|mission|resolution|objective|priority is|are ?to", "goals",
     VT_PHRASE, 0, NULL},
    {"my goal|goals|resolution|aim ?for this|next|the year|month|week|summer|semester|quarter is|are ?to",
     "goals", VT_PHRASE, 0, NULL},
    {"my plan|plans is|are|for ?to", "plans", VT_PHRASE, 0, NULL},
    {"my|our current|side|main|big|new|latest|next|biggest project|projects is|are", "projects",
     VT_PHRASE, 0, NULL},
    {"my|our project|projects is|are", "projects", VT_PHRASE, 0, NULL},
    {"my|our current|main focus|priority is ?on", "projects", VT_PHRASE, 0, NULL},
    {"my diet is", "diet", VT_TEXT, 0, NULL},
    {"my stack|editor|ide|setup|os|laptop|shell|terminal|browser is|are", "tools", VT_TECH, 0, NULL},
    {"my main|primary|go-to|favorite ?programming language|languages is|are",
     "programming_languages", VT_TECH, 0, NULL},
    {"my major|degree|degrees|field is|are|was ?in", "education", VT_TEXT, 0, NULL},
    {"my background|experience is ?mostly in|with", "expertise", VT_LIST, 0, NULL},
    {"my expertise|specialty|specialization|speciality|strength is|are ?in", "expertise",
     VT_LIST, 0, NULL},
    {"my allergies|allergy are|is|include", "allergies", VT_LIST, 0, NULL},
    {"my deadline is", "tasks", VT_TEXT, 0, NULL},
    {"my|our flight|trip|vacation|holiday leaves|is|starts ?to", "trips", VT_TRIP, 0, NULL},
    {NULL, NULL, 0, 0, NULL}};

/*
 * Match a phrase at t[p]; on success *out_end is the first token after it. Matching skips
 * nothing: the verb group loop has already stepped over auxiliaries.
 */
static int match(const struct cl *c, int p, const char *seq, int *out_end)
{
    const char *s = seq;

    while (*s) {
        const char *we = s, *a;
        int opt = 0, hit = 0;

        if (*s == '?') {
            opt = 1;
            s++;
        }
        while (*we && *we != ' ')
            we++;
        if (p < c->e) {
            const struct eg_tok *t = &c->t[p];
            a = s;
            while (a < we) {
                const char *ae = a;
                while (ae < we && *ae != '|')
                    ae++;
                if ((size_t)(ae - a) == t->len && memcmp(a, t->w, t->len) == 0) {
                    hit = 1;
                    break;
                }
                a = ae + (ae < we);
            }
        }
        if (hit) {
            p++;
        } else if (s != seq && p < c->e && inl(&c->t[p], L_ADVERBS)) {
            /* "work remotely for", "live mostly in": step over one adverb and retry */
            p++;
            continue;
        } else if (!opt) {
            return 0;
        }
        s = *we ? we + 1 : we;
    }
    *out_end = p;
    return 1;
}

/* --- phrase handlers -------------------------------------------------------------------- */

static int emit_from_to(struct cl *c, int a, int b, int a2, int b2)
{
    char v1[VBUF], v2[VBUF];
    size_t n1 = render(c, a, b, VT_PLACE, v1, sizeof(v1));
    size_t n2 = render(c, a2, b2, VT_PLACE, v2, sizeof(v2));
    int j, tech = 0, prog = 0;

    for (j = a2; j < b2; j++) {
        if (is_known_tech(c->t[j].w))
            tech = 1;
        if (is_prog(c->t[j].w))
            prog = 1;
    }
    if (!n2)
        return b2;
    if (prog)
        out(c, EG_FACT_ASSERT, "programming_languages", v2, n2, n1 ? v1 : NULL, n1, b2);
    else if (tech)
        out(c, EG_FACT_ASSERT, "tools", v2, n2, n1 ? v1 : NULL, n1, b2);
    else
        out(c, EG_FACT_ASSERT, "location", v2, n2, n1 ? v1 : NULL, n1, b2);
    if ((prog || tech) && n1)
        out(c, EG_FACT_NEGATE, prog ? "programming_languages" : "tools", v1, n1, NULL, 0, b2);
    return b2;
}

/* After a role: "at Acme" (employer) / "at MIT" for students (education). */
static int role_tail(struct cl *c, int p, int is_student)
{
    if (c->when_n && p == c->when_i)
        p += c->when_n; /* "I joined Stripe in March as a PM" */
    if (tis(c, p, "with")) {
        /* "a designer with 8 years of experience in UX" */
        int j;
        for (j = p + 1; j < c->e && j < p + 7; j++)
            if ((tis(c, j, "experience") || tis(c, j, "background")) &&
                (tis(c, j + 1, "in") || tis(c, j + 1, "with")))
                return list(c, EG_FACT_ASSERT, "expertise", j + 2, VT_LIST);
        return p;
    }
    if ((tis(c, p, "at") || tis(c, p, "for")) && p + 1 < c->e) {
        int q = p + 1;
        if (tis(c, q, "my") || tis(c, q, "our") || tis(c, q, "home") ||
            (tis(c, q, "the") && !(q + 1 < c->e && (c->t[q + 1].flags & TF_CAP))) ||
            tis(c, q, "work") || (c->when_n && q == c->when_i))
            return p; /* "the only developer at my company" names no company */
        if (tis(c, q, "a") || tis(c, q, "an"))
            return value(c, EG_FACT_ASSERT, is_student ? "education" : "employer", q, VT_PHRASE);
        return value(c, EG_FACT_ASSERT, is_student ? "education" : "employer", q, VT_ORG);
    }
    if (tis(c, p, "as") && p + 1 < c->e)
        return value(c, EG_FACT_ASSERT, "role", p + 1, VT_ROLE);
    if (tis(c, p, "on") && tis(c, p + 1, "the")) {
        int e = cut(c, p + 2, VT_TEAM);
        if (e > p + 2 && tis(c, e - 1, "team"))
            return value(c, EG_FACT_ASSERT, "team", p + 2, VT_TEAM) + 0 * e;
    }
    return p;
}

static int role_value(struct cl *c, int p, int fl)
{
    char v[VBUF];
    int e = cut(c, p, VT_ROLE), j, student = 0;
    size_t n;

    if (e > p && tis(c, e - 1, "team")) { /* "I work as part of the platform team" */
        return e;
    }
    n = render(c, p, e, VT_ROLE, v, sizeof(v));
    if (!n)
        return p;
    for (j = p; j < e; j++) {
        if (eg_x_is(&c->t[j], "student") || eg_x_is(&c->t[j], "undergrad") ||
            eg_x_is(&c->t[j], "postdoc") || eg_x_is(&c->t[j], "phd") ||
            (j == e - 1 && (eg_x_is(&c->t[j], "sophomore") || eg_x_is(&c->t[j], "freshman") ||
                            eg_x_is(&c->t[j], "junior") || eg_x_is(&c->t[j], "senior") ||
                            eg_x_is(&c->t[j], "grad") || eg_x_is(&c->t[j], "fresher"))))
            student = 1;
        if (is_prog(c->t[j].w) && e - p > 1 && c->t[j].len > 1) {
            char pv[VBUF];
            size_t pn = render(c, j, j + 1, VT_TECH, pv, sizeof(pv));
            if (pn && !c->hedge && !c->neg)
                out(c, EG_FACT_ASSERT, "programming_languages", pv, pn, NULL, 0, j + 1);
        }
    }
    out(c, c->neg ? EG_FACT_NEGATE : EG_FACT_ASSERT, "role", v, n, NULL, 0, e);
    if (fl & PF_ROLEAT)
        e = role_tail(c, e, student);
    return e;
}

/* "the platform team" -> "platform" */
static int team_value(struct cl *c, int p, int op)
{
    char v[VBUF];
    int e = p, j;
    size_t n;

    if (tis(c, e, "the"))
        e++;
    for (j = e; j < c->e && j < e + 5; j++)
        if (tis(c, j, "team") || tis(c, j, "squad") || tis(c, j, "group") ||
            tis(c, j, "department") || tis(c, j, "org"))
            break;
    if (j >= c->e || j >= e + 5 || j == e)
        return -1;
    n = render(c, e, j, VT_PHRASE, v, sizeof(v));
    if (n)
        out(c, op, "team", v, n, NULL, 0, j + 1);
    return j + 1;
}

/* "have": family, pets, degrees, events with dates, allergies, experience. */
static int have(struct cl *c, int p)
{
    char v[VBUF];
    int q = p, e, j, head = -1;
    size_t n;

    if (tis(c, q, "no") || tis(c, q, "any"))
        return p;
    /* "N years of experience in X" */
    for (j = q; j < c->e && j < q + 5; j++)
        if ((tis(c, j, "experience") || tis(c, j, "background")) &&
            (tis(c, j + 1, "in") || tis(c, j + 1, "with")))
            return list(c, EG_FACT_ASSERT, "expertise", j + 2, VT_LIST);
    if (!(tis(c, q, "a") || tis(c, q, "an") || tis(c, q, "two") || tis(c, q, "three") ||
          tis(c, q, "four") || tis(c, q, "one") || tis(c, q, "my") || tis(c, q, "some") ||
          (q < c->e && (c->t[q].flags & TF_NUM)) || tis(c, q, "twins") ||
          tis(c, q, "kids") || tis(c, q, "children") || tis(c, q, "pets") ||
          tis(c, q, "cats") || tis(c, q, "dogs") || tis(c, q, "severe") ||
          inl(&c->t[q < c->e ? q : c->e - 1], L_RELATIONS) ||
          inl(&c->t[q < c->e ? q : c->e - 1], L_PETS) ||
          (q + 1 < c->e && (inl(&c->t[q + 1], L_RELATIONS) || inl(&c->t[q + 1], L_PETS))) ||
          tis(c, q, "celiac") || tis(c, q, "coeliac")))
        return p;
    if (tis(c, q, "celiac") || tis(c, q, "coeliac")) {
        out(c, EG_FACT_ASSERT, "allergies", "gluten", 6, NULL, 0, q + 1);
        return q + 1;
    }
    e = cut(c, q, VT_LIST);
    for (j = q; j < e; j++) {
        if (inl(&c->t[j], L_RELATIONS) || inl(&c->t[j], L_PETS) ||
            inl(&c->t[j], L_DEGREE_WORDS) || inl(&c->t[j], L_EVENT_NOUNS) ||
            inl(&c->t[j], L_TRIP_NOUNS) || eg_x_is(&c->t[j], "allergy") ||
            eg_x_is(&c->t[j], "allergies") || eg_x_is(&c->t[j], "intolerance")) {
            head = j;
            if (!inl(&c->t[j], L_EVENT_NOUNS) || !eg_x_in(&c->t[j + 1 < e ? j + 1 : j],
                                                               event_nouns))
                break;
        }
    }
    if (head < 0)
        return p;
    while (head + 1 < e && (inl(&c->t[head + 1], L_PETS) || inl(&c->t[head + 1], L_RELATIONS)))
        head++; /* "a golden retriever puppy" */
    if (inl(&c->t[head], L_RELATIONS) || inl(&c->t[head], L_PETS)) {
        const char *key = inl(&c->t[head], L_PETS) ? "pets" : "family";
        int op = (c->neg || c->ended) ? EG_FACT_NEGATE : EG_FACT_ASSERT;
        int a = q, b = head + 1;
        if (tis(c, a, "a") || tis(c, a, "an") || tis(c, a, "my"))
            a++;
        /* "a dog named Rex" / "a daughter called Mia" -> "dog Rex" */
        n = render(c, a, b, VT_PHRASE, v, sizeof(v));
        if (n && (tis(c, b, "named") || tis(c, b, "called")) && b + 1 < c->e &&
            n + c->t[b + 1].e - c->t[b + 1].s + 1 < sizeof(v)) {
            char nm[VBUF];
            int ne = cut(c, b + 1, VT_NAME);
            size_t nn = render(c, b + 1, ne, VT_NAME, nm, sizeof(nm));
            if (nn && n + nn + 1 < sizeof(v)) {
                v[n++] = ' ';
                memcpy(v + n, nm, nn);
                n += nn;
            }
            b = ne;
        } else if (n && b < c->e && (c->t[b].flags & TF_CAP) && !(c->t[b].flags & TF_SYN) &&
                   !tis(c, b, "i")) {
            char nm[VBUF];
            int ne = cut(c, b, VT_NAME);
            size_t nn = render(c, b, ne, VT_NAME, nm, sizeof(nm));
            if (nn && n + nn + 1 < sizeof(v)) {
                v[n++] = ' ';
                memcpy(v + n, nm, nn);
                n += nn;
            }
            b = ne;
        }
        if (n)
            out(c, op, key, v, n, NULL, 0, b);
        /* "three children and a cat" */
        if (tis(c, b, "and") && b + 1 < c->e && b + 1 > p)
            return have(c, b + 1);
        return b;
    }
    if (inl(&c->t[head], L_DEGREE_WORDS)) {
        int a = q;
        if (tis(c, a, "a") || tis(c, a, "an") || tis(c, a, "my"))
            a++;
        e = cut(c, a, VT_PHRASE);
        n = render(c, a, e, VT_PHRASE, v, sizeof(v));
        if (n)
            out(c, EG_FACT_ASSERT, "education", v, n, NULL, 0, e);
        return e;
    }
    if (eg_x_is(&c->t[head], "allergy") || eg_x_is(&c->t[head], "allergies") ||
        eg_x_is(&c->t[head], "intolerance")) {
        int a = q;
        if (tis(c, a, "a") || tis(c, a, "an") || tis(c, a, "severe"))
            a++;
        if (tis(c, a, "severe"))
            a++;
        if (head > a) {
            n = render(c, a, head, VT_LIST, v, sizeof(v));
            if (n)
                out(c, EG_FACT_ASSERT, "allergies", v, n, NULL, 0, head + 1);
            return head + 1;
        }
        if (tis(c, head + 1, "to"))
            return list(c, EG_FACT_ASSERT, "allergies", head + 2, VT_LIST);
        return head + 1;
    }
    if (inl(&c->t[head], L_TRIP_NOUNS)) {
        int a = head + 1;
        if (tis(c, a, "trip"))
            a++;
        if (tis(c, a, "to") || tis(c, a, "in") || tis(c, a, "at"))
            a++;
        e = cut(c, a, VT_PLACE);
        if (e > a) {
            char pl[VBUF];
            size_t pn = render(c, a, e, VT_PLACE, pl, sizeof(pl));
            if (pn && pn + 8 < sizeof(v)) {
                memcpy(v, "trip to ", 8);
                memcpy(v + 8, pl, pn);
                out(c, EG_FACT_ASSERT, "trips", v, pn + 8, NULL, 0, e);
            }
            return e;
        }
    }
    /* An event: "a dentist appointment tomorrow", "my exam on friday". */
    {
        int a = q;
        if (tis(c, a, "a") || tis(c, a, "an") || tis(c, a, "my") || tis(c, a, "some"))
            a++;
        e = head + 1;
        while (e < c->e && e < head + 4 && !(c->t[e].flags & TF_PUNCT) &&
               !(c->when_n && e == c->when_i) && !tin(c, e, L_STOP_ALL) &&
               (tis(c, e, "with") || tis(c, e, "at") || tis(c, e, "for") || tis(c, e, "in") ||
                tis(c, e, "about") || tis(c, e, "on") ||
                (tis(c, e, "to") && e + 1 < c->e && (c->t[e + 1].flags & TF_CAP))) &&
               !(e + 1 < c->e && c->t[e + 1].w[0] >= '0' && c->t[e + 1].w[0] <= '9'))
            e = cut(c, e + 1, VT_PHRASE);
        n = render(c, a, e, VT_PHRASE, v, sizeof(v));
        if (n && (c->when_n || c->t[head].w[0] == 'd')) /* dated, or a deadline */
            out(c, EG_FACT_ASSERT, c->when_n && c->when.ms < c->x->turn_ms - 86400000LL
                                       ? "events" : "events", v, n, NULL, 0, e);
        return e;
    }
}

/* "I'm ..." after a form of "be": roles, names, ages, diets, nationality, status. */
static int be_complement(struct cl *c, int p)
{
    char v[VBUF];
    int q = p, j, e;
    size_t n;
    const struct eg_tok *t;

    c->pat_s = -1; /* "I'm an intern this summer" states a fact; it is no plan */
    while (q < c->e && tin(c, q, L_ADVERBS))
        q++;
    p = q;
    if (q >= c->e || tis(c, q, "not") || tis(c, q, "never") || tis(c, q, "no"))
        return p;
    t = &c->t[q];
    /* age: "I'm 34", "I am 34 years old" */
    if ((t->flags & TF_NUM) && t->len <= 3) {
        int age = 0, k;
        for (k = 0; k < t->len; k++)
            age = age * 10 + (t->w[k] - '0');
        if (age >= 1 && age <= 120 &&
            (q + 1 >= c->e || tis(c, q + 1, "years") || tis(c, q + 1, "yo") ||
             tis(c, q + 1, "y/o") || tis(c, q + 1, "and") || tis(c, q + 1, ",") ||
             tis(c, q + 1, "now") || tis(c, q + 1, "btw") || tis(c, q + 1, "but") ||
             tis(c, q + 1, "this") || tis(c, q + 1, "as") || tis(c, q + 1, "so") ||
             (c->t[q + 1].flags & TF_PUNCT))) {
            out(c, EG_FACT_ASSERT, "age", t->w, t->len, NULL, 0, q + 1);
            return q + 1 + (tis(c, q + 1, "years") ? 2 : 0);
        }
        return p;
    }
    if (tis(c, q, "lactose") || tis(c, q, "gluten")) {
        if (tis(c, q + 1, "intolerant") || tis(c, q + 1, "sensitive")) {
            out(c, EG_FACT_ASSERT, "allergies", t->w, t->len, NULL, 0, q + 2);
            return q + 2;
        }
    }
    if (tis(c, q, "celiac") || tis(c, q, "coeliac")) {
        out(c, EG_FACT_ASSERT, "allergies", "gluten", 6, NULL, 0, q + 1);
        return q + 1;
    }
    if (tis(c, q, "a") || tis(c, q, "an"))
        q++;
    if (tin(c, q, L_DIETS) || (tis(c, q, "plant") && tis(c, q + 1, "based"))) {
        if (tis(c, q, "plant"))
            out(c, c->neg ? EG_FACT_NEGATE : EG_FACT_ASSERT, "diet", "plant-based", 11, NULL, 0,
                q + 2);
        else if (!is_role_head(c, q + 1))
            out(c, c->neg ? EG_FACT_NEGATE : EG_FACT_ASSERT, "diet", c->t[q].w,
                c->t[q].len, NULL, 0, q + 1);
        else
            goto role;
        return q + 1;
    }
    q = p;
    if (tis(c, q, "married") || tis(c, q, "engaged") || tis(c, q, "divorced") ||
        tis(c, q, "single") || tis(c, q, "widowed") || tis(c, q, "separated")) {
        out(c, c->neg ? EG_FACT_NEGATE : EG_FACT_ASSERT, "family", c->t[q].w, c->t[q].len, NULL,
            0, q + 1);
        return q + 1;
    }
    if (tis(c, q, "retired") || tis(c, q, "unemployed") || tis(c, q, "self-employed") ||
        tis(c, q, "freelance") || tis(c, q, "freelancing")) {
        out(c, c->neg ? EG_FACT_NEGATE : EG_FACT_ASSERT, "role", c->t[q].w, c->t[q].len, NULL, 0,
            q + 1);
        return q + 1;
    }
    if ((tis(c, q, "on") || tis(c, q, "in") || tis(c, q, "part")) &&
        (tis(c, q + 1, "the") || tis(c, q + 1, "of"))) {
        int r = team_value(c, q + (tis(c, q, "part") ? 2 : 1) + (tis(c, q + 1, "of") ? 0 : 0),
                           c->neg ? EG_FACT_NEGATE : EG_FACT_ASSERT);
        if (r > 0)
            return r;
    }
    if ((tis(c, q, "a") || tis(c, q, "an")) && tis(c, q + 1, "native"))
        q++;
    if (tis(c, q, "native") && tin(c, q + 1, L_SPOKEN)) {
        const char *ci = canon_of(c->t[q + 1].w);
        out(c, EG_FACT_ASSERT, "languages", ci, strlen(ci), NULL, 0, q + 2);
        return q + 2 + tis(c, q + 2, "speaker");
    }
    q = p;
    if (tis(c, q, "in") && q + 1 < c->e && (c->t[q + 1].flags & TF_CAP) &&
        !(c->when_n && c->when_i == q) &&
        !tis(c, q + 1, "i") && !c->neg) {
        if (c->when_n) {
            e = cut(c, q + 1, VT_PLACE);
            n = render(c, q + 1, e, VT_PLACE, v + 8, sizeof(v) - 8);
            if (n) {
                memcpy(v, "trip to ", 8);
                out(c, EG_FACT_ASSERT, "trips", v, n + 8, NULL, 0, e);
            }
            return e;
        }
        c->casual = 1;
        return value(c, EG_FACT_ASSERT, "location", q + 1, VT_PLACE);
    }
    /* "I've been at Amazon for six years": with "have been", "at" names the employer */
    if (tis(c, q, "at") && c->perfect && q + 1 < c->e && (c->t[q + 1].flags & TF_CAP) &&
        !(c->when_n && c->when_i == q + 1) && !tis(c, q + 1, "i"))
        return value(c, c->neg ? EG_FACT_NEGATE : EG_FACT_ASSERT, "employer", q + 1, VT_ORG);
    /* nationality: "I'm German", "I'm a British citizen" */
    q = p;
    if (tis(c, q, "a") || tis(c, q, "an"))
        q++;
    if (tin(c, q, L_NATIONALITIES) && !is_role_head(c, q + 1) &&
        !tin(c, q + 1, L_SPOKEN) &&
        (q + 1 >= c->e || tis(c, q + 1, "citizen") || tis(c, q + 1, "national") ||
         tis(c, q + 1, ",") || tis(c, q + 1, "and") || tis(c, q + 1, "but") ||
         tis(c, q + 1, "by") || tis(c, q + 1, "living") || tis(c, q + 1, "based") ||
         tis(c, q + 1, "working") || tis(c, q + 1, "from") || tis(c, q + 1, "who") ||
         tin(c, q + 1, L_STOP_ALL) || (c->t[q + 1].flags & TF_PUNCT))) {
        const char *ci = canon_of(c->t[q].w);
        n = render(c, q, q + 1, VT_NAME, v, sizeof(v));
        if (ci)
            out(c, c->neg ? EG_FACT_NEGATE : EG_FACT_ASSERT, "nationality", ci,
                strlen(ci), NULL, 0, q + 1);
        else if (n)
            out(c, c->neg ? EG_FACT_NEGATE : EG_FACT_ASSERT, "nationality", v, n, NULL, 0,
                q + 1);
        return q + 1 + (tis(c, q + 1, "citizen") ? 1 : 0);
    }
role:
    /* role: "a senior backend engineer", "the head of platform", "CTO at X" */
    q = p;
    if (tis(c, q, "a") || tis(c, q, "an") || tis(c, q, "the"))
        q++;
    e = cut(c, q, VT_ROLE);
    for (j = q; j < e; j++) {
        if (is_role_head(c, j)) {
            /* "a big fan", "the best": role heads only count as the noun of the phrase */
            if (tis(c, j, "senior") || tis(c, j, "junior") || tis(c, j, "lead") ||
                tis(c, j, "head") || tis(c, j, "chief") || tis(c, j, "principal")) {
                if (j + 1 < e && !tis(c, j + 1, "of") && !is_role_head(c, j + 1) &&
                    j + 1 != e)
                    continue;
            }
            return role_value(c, q, PF_ROLEAT);
        }
        if (tis(c, j, "fan") || tis(c, j, "lot") || tis(c, j, "bit"))
            break;
    }
    /* "a big Arsenal fan" */
    for (j = q; j < e && j < q + 5; j++)
        if (tis(c, j, "fan") && j > q) {
            int a = q;
            while (a < j && (tis(c, a, "big") || tis(c, a, "huge") || tis(c, a, "massive") ||
                             tis(c, a, "great") || tis(c, a, "die-hard") ||
                             tis(c, a, "lifelong") || tis(c, a, "total")))
                a++;
            n = a < j ? render(c, a, j, VT_LIST, v, sizeof(v)) : 0;
            if (n)
                out(c, c->neg ? EG_FACT_ASSERT : EG_FACT_ASSERT, c->neg ? "dislikes" : "likes",
                    v, n, NULL, 0, j + 1);
            return n ? j + 1 : p;
        }
    /* "a stay-at-home dad with three kids", "a mom of two" */
    for (j = q; j < c->e && j < q + 8; j++)
        if ((tis(c, j, "with") || tis(c, j, "of")) && j + 2 < c->e &&
            (tis(c, j + 1, "two") || tis(c, j + 1, "three") || tis(c, j + 1, "four") ||
             tis(c, j + 1, "a") || tis(c, j + 1, "one") || (c->t[j + 1].flags & TF_NUM)) &&
            tin(c, j + 2, L_RELATIONS)) {
            n = render(c, j + 1, j + 3, VT_PHRASE, v, sizeof(v));
            if (n)
                out(c, EG_FACT_ASSERT, "family", v, n, NULL, 0, j + 3);
            break;
        }
    if (e > q && tis(c, e - 1, "expert") && e - q >= 2) {
        n = render(c, q, e - 1, VT_LIST, v, sizeof(v));
        if (n)
            out(c, EG_FACT_ASSERT, "expertise", v, n, NULL, 0, e);
        return e;
    }
    /* a name: "I'm Alice", "Hi, I'm Alice Chen, Head of Platform at Acme Corp" */
    q = p;
    if (q < c->e && ((c->t[q].flags & TF_CAP) || c->greeting) && !(c->t[q].flags & TF_SYN) &&
        !tis(c, q - 1, "a") && !tis(c, q - 1, "an") && !tis(c, q - 1, "the") &&
        !(c->t[q].flags & TF_NUM) &&
        !tis(c, q, "i") && !canon_of(c->t[q].w) && !tin(c, q, L_NATIONALITIES) &&
        !tin(c, q, L_DIETS) && !is_role_head(c, q) && !c->neg && c->subj == SJ_I) {
        e = cut(c, q, VT_NAME);
        if (e - q <= 3 && (e >= c->e || (c->t[e].flags & TF_PUNCT) || tis(c, e, "and") ||
                           tis(c, e, "from") || tis(c, e, "by") || tin(c, e, L_STOP_ALL) ||
                           tis(c, e, "here"))) {
            n = render(c, q, e, VT_NAME, v, sizeof(v));
            if (n)
                out(c, EG_FACT_ASSERT, "name", v, n, NULL, 0, e);
            c->greeting = 0; /* one introduction per clause */
            if (tis(c, e, ",") && e + 1 < c->e) {
                int r = e + 1;
                if (tis(c, r, "a") || tis(c, r, "an") || tis(c, r, "the"))
                    r++;
                for (j = r; j < c->e && j < r + 5 && !(c->t[j].flags & TF_PUNCT); j++)
                    if (is_role_head(c, j))
                        return role_value(c, r, PF_ROLEAT);
            }
            if (tis(c, e, "from") && e + 1 < c->e && (c->t[e + 1].flags & TF_CAP))
                return value(c, EG_FACT_ASSERT, "hometown", e + 1, VT_PLACE);
            return e;
        }
    }
    return p;
}

/* "my favorite food is sushi" -> likes "sushi" */
static int favorite(struct cl *c, int p)
{
    int j;
    for (j = p; j < c->e && j < p + 5; j++)
        if (tis(c, j, "is") || tis(c, j, "are"))
            return list(c, EG_FACT_ASSERT, "likes", j + 1, VT_LIST);
    return p;
}

/* Verbs of talking to the assistant: "I want to ask", "I'm going to say" are not plans. */
static int speech_act(const struct cl *c, int p)
{
    return tis(c, p, "know") || tis(c, p, "ask") || tis(c, p, "say") || tis(c, p, "tell") ||
           tis(c, p, "check") || tis(c, p, "understand") || tis(c, p, "talk") ||
           tis(c, p, "hear") || tis(c, p, "share") || tis(c, p, "confirm") ||
           tis(c, p, "mention") || tis(c, p, "thank") || tis(c, p, "clarify") ||
           tis(c, p, "add") || tis(c, p, "point") || tis(c, p, "sleep") ||
           tis(c, p, "explain") || tis(c, p, "give") || tis(c, p, "show");
}

/* "going to": a place is a trip, a verb is a plan. */
static int going(struct cl *c, int p, int pat_s)
{
    char v[VBUF];
    int e;
    size_t n;

    if (p >= c->e || (c->when_n && p == c->when_i))
        return p;
    if (tin(c, p, L_BASE_VERBS) && !(c->t[p].flags & TF_CAP)) {
        if (speech_act(c, p))
            return p;
        return value(c, EG_FACT_ASSERT, "plans", p, VT_PHRASE);
    }
    /* "back from a week in Mexico City" */
    if ((tis(c, p, "a") || tis(c, p, "an")) &&
        (tis(c, p + 1, "week") || tis(c, p + 1, "weekend") || tis(c, p + 1, "month") ||
         tis(c, p + 1, "trip") || tis(c, p + 1, "holiday") || tis(c, p + 1, "vacation") ||
         tis(c, p + 1, "few")) ) {
        int j;
        for (j = p + 2; j < c->e && j < p + 5; j++)
            if (tis(c, j, "in") || tis(c, j, "to"))
                break;
        if (j < c->e && j < p + 5)
            p = j + 1;
    }
    if (tis(c, p, "be") && tis(c, p + 1, "in"))
        p += 2;
    if (tis(c, p, "the") && !(c->t[p].flags & TF_CAP))
        return p; /* "going to the gym" */
    if (tis(c, p, "a") || tis(c, p, "my") || tis(c, p, "bed") || tis(c, p, "work") ||
        tis(c, p, "school") || tis(c, p, "sleep") || tis(c, p, "church") ||
        tis(c, p, "class") || tis(c, p, "lunch") || tis(c, p, "dinner"))
        return p;
    e = cut(c, p, VT_PLACE);
    n = render(c, p, e, VT_PLACE, v + 8, sizeof(v) - 8);
    (void)pat_s;
    if (n) {
        memcpy(v, "trip to ", 8);
        out(c, EG_FACT_ASSERT, "trips", v, n + 8, NULL, 0, e);
    }
    return e;
}

static int run_pattern(struct cl *c, const struct pat *pt, int p, int pat_s)
{
    char v[VBUF];
    int op = (pt->fl & PF_NEG) || c->ended ? EG_FACT_NEGATE : EG_FACT_ASSERT;
    int e, a2, b2;
    size_t n;

    if (c->neg)
        op = EG_FACT_NEGATE;
    if (pt->fl & PF_CASUAL)
        c->casual = 1;
    c->pat_s = pat_s;
    switch (pt->vt) {
    case VT_TEAM: {
        int r = team_value(c, p, op);
        if (r < 0)
            return p;
        return (pt->fl & PF_ROLEAT) ? role_tail(c, r, 0) : r;
    }
    case VT_PLACE:
    case VT_ORG:
    case VT_NAME:
        if (pt->vt == VT_ORG) {
            int r = team_value(c, p, op);
            if (r > 0 && (tis(c, p, "the")))
                return r;
        }
        if (pt->vt == VT_ORG && p < c->e && !(c->t[p].flags & TF_CAP) &&
            !tis(c, p, "a") && !tis(c, p, "an") && !is_known_tech(c->t[p].w) &&
            (tis(c, p, "home") || tis(c, p, "myself") || tis(c, p, "free") ||
             tis(c, p, "fun") || tis(c, p, "money") || tis(c, p, "it") || tis(c, p, "them") ||
             tis(c, p, "hours") || tis(c, p, "night") || tis(c, p, "weeks") ||
             tis(c, p, "my") ||
             (tis(c, p, "the") && !(c->t[p + 1 < c->e ? p + 1 : p].flags & TF_CAP) &&
              !canon_of(c->t[p + 1 < c->e ? p + 1 : p].w)) ||
             tis(c, p, "kids") ||
             tis(c, p, "people") || tis(c, p, "clients") || tis(c, p, "customers") ||
             tis(c, p, "data") || (c->t[p].flags & TF_NUM)))
            return p;
        if (pt->vt == VT_PLACE && tis(c, p - 1, "with"))
            p--;
        if (pt->vt == VT_PLACE && tis(c, p, "the") && c->subj != SJ_OTHER) {
            int r = team_value(c, p, op); /* "I moved to the security team" */
            if (r > 0)
                return r;
        }
        if (pt->vt == VT_PLACE && (tis(c, p, "a") || tis(c, p, "an")) &&
            !(c->t[p].flags & TF_CAP))
            return p; /* "moved to a bigger house" */
        /* "in the suburbs", "to the city": a common noun is not a place we can name */
        if (pt->vt == VT_PLACE && tis(c, p, "the") && !(c->t[p].flags & TF_CAP) &&
            p + 1 < c->e && !(c->t[p + 1].flags & TF_CAP) && !canon_of(c->t[p + 1].w))
            return p;
        if (pt->vt == VT_PLACE && tis(c, p, "with")) {
            /* "I live with my girlfriend in Hackney" */
            if (tis(c, p + 1, "my") &&
                (tin(c, p + 2, L_RELATIONS) || tin(c, p + 2, L_PETS)) && c->subj != SJ_OTHER &&
                op == EG_FACT_ASSERT) {
                out(c, EG_FACT_ASSERT, tin(c, p + 2, L_PETS) ? "pets" : "family", c->t[p + 2].w,
                    c->t[p + 2].len, NULL, 0, p + 3);
                if (tis(c, p + 3, "in") || tis(c, p + 3, "near"))
                    return value(c, op, pt->key, p + 4, VT_PLACE);
                return p + 3;
            }
            return p;
        }
        if (pt->vt == VT_ORG && (tis(c, p, "a") || tis(c, p, "an"))) {
            /* "I work for a startup" / "at a hospital": keep the description */
            int kc;
            for (kc = p + 1; kc < c->e && kc < p + 4; kc++)
                if ((tis(c, kc, "called") || tis(c, kc, "named")) && kc + 1 < c->e) {
                    /* "a company called Initech" */
                    e = cut(c, kc + 1, VT_ORG);
                    n = render(c, kc + 1, e, VT_ORG, v, sizeof(v));
                    if (n)
                        out(c, op, pt->key, v, n, NULL, 0, e);
                    return (pt->fl & PF_ROLEAT) ? role_tail(c, e, 0) : e;
                }
            e = cut(c, p, VT_PHRASE);
            {
                int k;
                for (k = p; k < e; k++)
                    if (tis(c, k, "as") || tis(c, k, "in") || tis(c, k, "on") ||
                        tis(c, k, "for") || tis(c, k, "with") || tis(c, k, "at") ||
                        tis(c, k, "that") || tis(c, k, "which") || tis(c, k, "who"))
                        break;
                e = k;
            }
            n = render(c, p, e, VT_PHRASE, v, sizeof(v));
            if (n)
                out(c, op, pt->key, v, n, NULL, 0, e);
        } else {
            e = cut(c, p, pt->vt);
            /* "I live in fear", "in denial": abstract nouns are not places */
            if (pt->vt == VT_PLACE && e == p + 1 &&
                (tis(c, p, "fear") || tis(c, p, "hope") || tis(c, p, "denial") ||
                 tis(c, p, "peace") || tis(c, p, "poverty") || tis(c, p, "luxury") ||
                 tis(c, p, "comfort") || tis(c, p, "misery") || tis(c, p, "limbo") ||
                 tis(c, p, "sin") || tis(c, p, "style") || tis(c, p, "harmony") ||
                 tis(c, p, "chaos") || tis(c, p, "shame") || tis(c, p, "dread") ||
                 tis(c, p, "terror") || tis(c, p, "bed") || tis(c, p, "love")))
                return p;
            /* A writer who capitalises names wrote this one in lower case: not a name
             * ("I'm Sarah from marketing"). All-lower-case chat is still read. */
            if ((pt->vt == VT_PLACE || pt->vt == VT_NAME) && c->x->caps && e > p &&
                lower_all(c->x->text + c->t[p].s, c->t[e - 1].e - c->t[p].s) &&
                !canon_of(c->t[p].w))
                return p;
            n = render(c, p, e, pt->vt, v, sizeof(v));
            if (!n)
                return p;
            out(c, op, pt->key, v, n, NULL, 0, e);
            /* "I live in Leeds with my partner" */
            if (pt->vt == VT_PLACE && tis(c, e, "with") && tis(c, e + 1, "my") &&
                tin(c, e + 2, L_RELATIONS) && op == EG_FACT_ASSERT && c->subj != SJ_OTHER) {
                out(c, EG_FACT_ASSERT, "family", c->t[e + 2].w, c->t[e + 2].len, NULL, 0,
                    e + 3);
                e += 3;
            }
        }
        if (pt->fl & PF_ROLEAT)
            e = role_tail(c, e, 0);
        return e;
    case VT_ROLE:
        if (tis(c, p, "a") || tis(c, p, "an") || tis(c, p, "the"))
            p++;
        return role_value(c, p, pt->fl);
    case VT_LIST:
    case VT_LIKE:
    case VT_LANG:
    case VT_TECH:
    case VT_TECHSTRICT: {
        const char *key = pt->key;
        if (c->neg && tis(c, pat_s, "stand")) {
            c->neg = 0; /* "can't stand" is a dislike, not a negated one */
            op = EG_FACT_ASSERT;
        }
        if (c->neg && (strcmp(key, "likes") == 0)) {
            key = "dislikes";
            op = EG_FACT_ASSERT;
            if (c->ended)
                op = EG_FACT_NEGATE, key = "likes";
        }
        if (strcmp(pt->key, "dislikes") == 0 && c->neg && !c->ended) {
            key = "likes"; /* "I don't hate it" is too weak to say anything */
            return p;
        }
        if (pt->vt == VT_LIKE && (tis(c, p, "it") || tis(c, p, "that") || tis(c, p, "this") ||
                                  tis(c, p, "you") || tis(c, p, "when") || tis(c, p, "how") ||
                                  tis(c, p, "what") || (tis(c, p, "the") && tis(c, p + 1, "idea"))))
            return p;
        if (pt->vt == VT_LIKE && (tis(c, p, "to") && tis(c, p + 1, "know")))
            return p;
        return list(c, op, key, p, pt->vt);
    }
    case VT_PHRASE:
    case VT_TEXT:
        if (tis(c, p, "you") || tis(c, p, "u"))
            return p; /* "I want you to ..." is a request, handled elsewhere */
        if ((strcmp(pt->key, "goals") == 0 || strcmp(pt->key, "plans") == 0 ||
             strcmp(pt->key, "tasks") == 0) && speech_act(c, p))
            return p; /* "I want to know more about Rome" is a question in disguise */
        if (strcmp(pt->key, "tasks") == 0 && tis(c, pat_s, "must") &&
            (tis(c, p, "be") || tis(c, p, "have") || tis(c, p, "admit") ||
             tis(c, p, "confess") || tis(c, p, "not") || tis(c, p, "to")))
            return p; /* "I must be crazy" */
        if (strcmp(pt->key, "projects") == 0) {
            int r = team_value(c, p, op);
            if (r > 0 && tis(c, p, "the") && tis(c, r - 1, "team"))
                return r;
        }
        if (strcmp(pt->key, "diet") == 0) {
            int k;
            e = cut(c, p, VT_PHRASE);
            for (k = p; k < e; k++)
                if (tis(c, k, "diet"))
                    break;
            if (k == e || k == p)
                return p;
            if (tis(c, p, "a") || tis(c, p, "an") || tis(c, p, "the"))
                p++;
            n = render(c, p, k, VT_PHRASE, v, sizeof(v));
            if (n)
                out(c, op, "diet", v, n, NULL, 0, k + 1);
            return k + 1;
        }
        if (strcmp(pt->key, "learning") == 0) { /* "taking a Spanish class" */
            int k;
            e = cut(c, p, VT_PHRASE);
            for (k = p; k < e; k++)
                if (tis(c, k, "class") || tis(c, k, "classes") || tis(c, k, "course") ||
                    tis(c, k, "courses") || tis(c, k, "lessons") || tis(c, k, "lesson") ||
                    tis(c, k, "bootcamp"))
                    break;
            if (k == e || k == p)
                return p;
            n = render(c, p, k, VT_LIST, v, sizeof(v));
            if (n)
                out(c, op, "learning", v, n, NULL, 0, k + 1);
            return k + 1;
        }
        if (c->when_n && (c->when_i == p || (c->when_i == p - 1 && tis(c, p - 1, "on")))) {
            /* "my birthday is March 3rd": the date is the value, not a time for it */
            int a = p;
            e = c->when_i + c->when_n;
            if (tis(c, a, "the"))
                a++;
            n = render(c, a, e, VT_TEXT, v, sizeof(v));
            c->when_n = 0;
            if (n)
                out(c, op, pt->key, v, n, NULL, 0, e);
            return e;
        }
        e = cut(c, p, VT_PHRASE);
        n = render(c, p, e, VT_PHRASE, v, sizeof(v));
        if (n)
            out(c, op, pt->key, v, n, NULL, 0, e);
        return e;
    case VT_VERBPHRASE:
    case VT_VERBAL: {
        /* the phrase itself is the value: "got married", "went vegan" */
        int k = pat_s;
        if (strcmp(pt->key, "diet") == 0) {
            out(c, op, "diet", c->t[p - 1].w, c->t[p - 1].len, NULL, 0, p);
            return p;
        }
        n = c->t[p - 1].e - c->t[k].s;
        if (n && n < sizeof(v)) {
            memcpy(v, c->x->text + c->t[k].s, n);
            out(c, op, pt->key, v, n, NULL, 0, p);
        }
        return p;
    }
    case VT_TRIP:
        return going(c, p, pat_s);
    case VT_GOING:
        return going(c, p, pat_s);
    case VT_PREF: {
        int q;
        if (tis(c, p, "not") || (tis(c, p, "to") && tis(c, p + 1, "not")))
            return p;
        e = cut(c, p, VT_LIST);
        /* "X over Y", "X to Y", "X rather than Y", "X instead of Y", "X than Y" */
        q = e;
        if (tis(c, q, "over") || tis(c, q, "than") || tis(c, q, "vs") || tis(c, q, "to"))
            q++;
        else if ((tis(c, q, "rather") && tis(c, q + 1, "than")) ||
                 (tis(c, q, "instead") && tis(c, q + 1, "of")))
            q += 2;
        else
            q = -1;
        if (q < 0) { /* "I prefer X": X over nothing; still a preference */
            int k;
            for (k = p; k < e; k++)
                if (tis(c, k, "over") || tis(c, k, "to") || tis(c, k, "than"))
                    break;
            if (k < e && k > p) {
                q = k + 1;
                e = k;
            }
        }
        n = render(c, p, e, VT_PREF, v, sizeof(v));
        if (!n)
            return p;
        if (q > 0) {
            char w2[VBUF];
            int e2 = cut(c, q, VT_TOPIC); /* "Python over R for data analysis" */
            size_t n2 = render(c, q, e2, VT_PREF, w2, sizeof(w2));
            if (n2 && n + n2 + 6 < sizeof(v)) {
                memcpy(v + n, " over ", 6);
                memcpy(v + n + 6, w2, n2);
                n += n2 + 6;
            }
            e = e2;
        }
        out(c, op == EG_FACT_NEGATE ? EG_FACT_NEGATE : EG_FACT_ASSERT, "preferences", v, n,
            NULL, 0, e);
        return e;
    }
    case VT_FROMTO: {
        int b;
        b = cut(c, p, VT_PLACE);
        if (b == p)
            return p;
        if (!tis(c, b, "to"))
            return b;
        a2 = b + 1;
        b2 = cut(c, a2, VT_PLACE);
        return emit_from_to(c, p, b, a2, b2);
    }
    case VT_JOIN: {
        int r = team_value(c, p, op);
        if (r > 0)
            return r;
        if (p < c->e && ((c->t[p].flags & TF_CAP) || tis(c, p, "a") || tis(c, p, "an")) &&
            !tis(c, p, "i")) {
            if (tis(c, p, "a") || tis(c, p, "an")) {
                e = cut(c, p, VT_PHRASE);
                {
                    int k;
                    for (k = p; k < e; k++)
                        if (tis(c, k, "as") || tis(c, k, "in") || tis(c, k, "on") ||
                            tis(c, k, "for") || tis(c, k, "with") || tis(c, k, "at"))
                            break;
                    e = k;
                }
                if (tin(c, e - 1, L_OTHERS) || tis(c, e - 1, "gym") || tis(c, e - 1, "club") ||
                    tis(c, e - 1, "class") || tis(c, e - 1, "group") || tis(c, e - 1, "choir"))
                    return e;
                n = render(c, p, e, VT_PHRASE, v, sizeof(v));
                if (n)
                    out(c, op, "employer", v, n, NULL, 0, e);
            } else {
                e = cut(c, p, VT_ORG);
                n = render(c, p, e, VT_ORG, v, sizeof(v));
                if (n)
                    out(c, op, "employer", v, n, NULL, 0, e);
            }
            return role_tail(c, e, 0);
        }
        return p;
    }
    case VT_LEAVE:
        if ((tis(c, p, "my") || tis(c, p, "that") || tis(c, p, "the") || tis(c, p, "this")) &&
            (tis(c, p + 1, "job") || tis(c, p + 1, "company") ||
                                tis(c, p + 1, "position") || tis(c, p + 1, "role"))) {
            if (tis(c, p + 1, "role") || tis(c, p + 1, "position")) {
                out(c, EG_FACT_NEGATE, "role", NULL, 0, NULL, 0, p + 2);
            } else if ((tis(c, p + 2, "at") || tis(c, p + 2, "with")) && p + 3 < c->e &&
                       (c->t[p + 3].flags & TF_CAP)) {
                /* "I left my job at Amazon" closes Amazon */
                e = cut(c, p + 3, VT_ORG);
                n = render(c, p + 3, e, VT_ORG, v, sizeof(v));
                if (n)
                    out(c, EG_FACT_NEGATE, "employer", v, n, NULL, 0, e);
                return e;
            } else {
                out(c, EG_FACT_NEGATE, "employer", NULL, 0, NULL, 0, p + 2);
            }
            return p + 2;
        }
        {
            int r = team_value(c, p, EG_FACT_NEGATE);
            if (r > 0)
                return r;
        }
        if (p < c->e && (c->t[p].flags & TF_CAP) && !tis(c, p, "i")) {
            e = cut(c, p, VT_ORG);
            n = render(c, p, e, VT_ORG, v, sizeof(v));
            if (n)
                out(c, EG_FACT_NEGATE, "employer", v, n, NULL, 0, e);
            return e;
        }
        if (p < c->e && (is_known_tech(c->t[p].w)))
            return list(c, EG_FACT_NEGATE, "tools", p, VT_TECH);
        if (p < c->e && !(c->t[p].flags & TF_CAP) && !tin(c, p, L_STOP_ALL) && p + 1 >= c->e &&
            !tis(c, p, "it") && c->t[p].len > 2 && strcmp(c->t[p].w + c->t[p].len - 3, "ing") == 0)
            return p; /* "I quit smoking": a habit, not a job */
        return p;
    case VT_NONE:
        out(c, EG_FACT_NEGATE, pt->key, NULL, 0, NULL, 0, p);
        return p;
    case VT_BORN:
        if (p < c->e && ((c->t[p].flags & TF_NUM) ||
                         (c->when_n && c->when_i <= p && c->when_i + c->when_n > p))) {
            e = cut(c, p, VT_TEXT);
            if (c->when_n && c->when_i == p)
                e = p + c->when_n;
            n = render(c, p, e, VT_TEXT, v, sizeof(v));
            if (n)
                out(c, EG_FACT_ASSERT, "birthday", v, n, NULL, 0, e);
            return e;
        }
        return value(c, EG_FACT_ASSERT, "hometown", p, VT_PLACE);
    case VT_EDU:
        if (tis(c, p, "at") || tis(c, p, "from")) /* "I studied at Oxford" */
            return value(c, EG_FACT_ASSERT, "education", p + 1, VT_ORG);
        if (c->when_n && (c->when_i == p || c->when_i == p - 1))
            p = c->when_i + c->when_n; /* "graduated in 2019 with a degree in physics" */
        if (tis(c, p, "with"))
            p++;
        if (tis(c, p, "in"))
            p++;
        e = cut(c, p, VT_PHRASE);
        n = render(c, p, e, VT_PHRASE, v, sizeof(v));
        if (n)
            out(c, EG_FACT_ASSERT, "education", v, n, NULL, 0, e);
        return e;
    case VT_DIETNEG:
        if ((c->neg || c->ended || (pt->fl & PF_NEG)) && p < c->e) {
            e = cut(c, p, VT_LIST);
            n = render(c, p, e, VT_LIST, v + 3, sizeof(v) - 3);
            if (n && n < 30) {
                memcpy(v, "no ", 3);
                c->neg = 0;
                out(c, EG_FACT_ASSERT, "diet", v, n + 3, NULL, 0, e);
            }
            return e;
        }
        return p;
    case VT_FAV:
        return favorite(c, p);
    case VT_HAVE:
        return have(c, p);
    case VT_GOBY:
        if (p < c->e && (strchr(c->t[p].w, '/') || tis(c, p, "he") || tis(c, p, "she") ||
                         tis(c, p, "they")))
            return value(c, EG_FACT_ASSERT, "pronouns", p, VT_TEXT);
        return value(c, EG_FACT_ASSERT, "name", p, VT_NAME);
    case VT_AGE:
        if (p < c->e && (c->t[p].flags & TF_NUM) && c->t[p].len <= 3) {
            out(c, EG_FACT_ASSERT, "age", c->t[p].w, c->t[p].len, NULL, 0, p + 1);
            return p + 1;
        }
        return p;
    default:
        return p;
    }
}

static int lead_has(const char *lead, char c0, char c1)
{
    for (; lead[0] && lead[1]; lead += 2)
        if (lead[0] == c0 && lead[1] == c1)
            return 1;
    return 0;
}

int eg_x_selftest(char *msg, size_t cap)
{
    size_t i;
    int id;

    for (id = 0; id < L_COUNT; id++) {
        size_t n;
        const char *const *l = list_of(id, &n);
        for (i = 0; l[i] && l[i + 1]; i++)
            if (strcmp(l[i], l[i + 1]) >= 0) {
                snprintf(msg, cap, "word list %d not sorted/unique at \"%s\"", id, l[i + 1]);
                return 0;
            }
        if (l[n] != NULL || (n && !l[n - 1])) {
            snprintf(msg, cap, "word list %d: length %zu is wrong", id, n);
            return 0;
        }
    }
#define CHECK_SORTED(tab)                                                                          \
    for (i = 0; i + 1 < sizeof(tab) / sizeof(tab[0]); i++)                                         \
        if (strcmp(tab[i][0], tab[i + 1][0]) >= 0) {                                               \
            snprintf(msg, cap, #tab " not sorted/unique at \"%s\"", tab[i + 1][0]);                \
            return 0;                                                                              \
        }
    CHECK_SORTED(prog_canon)
    CHECK_SORTED(tech_canon)
    CHECK_SORTED(word_canon)
#undef CHECK_SORTED

    for (i = 0; after_subject[i].seq; i++) {
        const struct pat *pt = &after_subject[i];
        const char *q = pt->seq;
        if (!pt->lead) {
            snprintf(msg, cap, "phrase %zu (%s) has no lead", i, pt->seq);
            return 0;
        }
        if (*q == '?') {
            if (strcmp(pt->lead, "*") != 0) {
                snprintf(msg, cap, "phrase %zu (%s): lead must be \"*\"", i, pt->seq);
                return 0;
            }
            continue;
        }
        if (strlen(pt->lead) % 2) {
            snprintf(msg, cap, "phrase %zu (%s): lead \"%s\" is not letter pairs", i, pt->seq,
                     pt->lead);
            return 0;
        }
        for (; *q && *q != ' '; q++)
            if (q == pt->seq || q[-1] == '|') {
                char c1 = (q[1] && q[1] != '|' && q[1] != ' ') ? q[1] : ' ';
                if (!lead_has(pt->lead, q[0], c1)) {
                    snprintf(msg, cap, "phrase %zu (%s): lead \"%s\" lacks \"%c%c\"", i,
                             pt->seq, pt->lead, q[0], c1);
                    return 0;
                }
            }
    }
    return 1;
}

/* Try the table at position p; returns the end of what was consumed, or -1. */
static int try_table(struct cl *c, const struct pat *tab, int p, int last_be)
{
    int i, end, before;
    char c0 = c->t[p].w[0], c1 = c0 && c->t[p].w[1] ? c->t[p].w[1] : ' ';

    for (i = 0; tab[i].seq; i++) {
        const struct pat *pt = &tab[i];
        int r;
        if (pt->lead && pt->lead[0] != '*' && (!c0 || !lead_has(pt->lead, c0, c1)))
            continue;
        if (!match(c, p, pt->seq, &end))
            continue;
        if ((pt->fl & PF_BE) && !last_be)
            continue;
        if (c->subj == SJ_OTHER && !(pt->fl & PF_3P))
            continue;
        if ((pt->fl & PF_PAST) && !c->perfect)
            continue;
        before = c->emitted;
        r = run_pattern(c, pt, end, p);
        if (c->emitted > before)
            return r > end ? r : end;
    }
    return -1;
}

/* --- clauses ---------------------------------------------------------------------------- */

static const char *const q_words[] = {
    "am", "any", "anybody", "anyone", "are", "can", "could", "did", "do", "does", "has", "have",
    "how", "is", "isnt", "may", "shall", "should", "wanna", "was", "were", "what", "whats",
    "where", "which", "who", "whom", "whose", "why", "will", "would", NULL};

static const char *const request_verbs[] = {
    "act", "analyse", "analyze", "assume", "book", "brainstorm", "build", "calculate", "check",
    "choose", "come", "compare", "compose", "convert", "correct", "create", "debug", "define",
    "describe", "design", "do", "draft", "edit", "expand", "explain", "find", "fix", "generate",
    "give", "go", "grammar", "guess", "help", "imagine", "let", "lets", "list", "look", "make",
    "name", "outline", "paraphrase", "pick", "plan", "pretend", "proofread", "recommend",
    "refactor", "remind", "rephrase", "review", "reword", "rewrite", "roleplay", "say", "search",
    "send", "shorten", "show", "simplify", "spell", "suggest", "summarise", "summarize",
    "suppose", "teach", "tell", "translate", "try", "walk", "write", NULL};

static const char *const hypo_words[] = {
    "asked", "assuming", "character", "dream", "dreamed", "dreamt", "e.g", "example", "fiction",
    "fictional", "hypothetical", "hypothetically", "if", "imagine", "lyrics", "novel", "poem",
    "pretend", "protagonist", "quote", "quoted", "role-play", "roleplay", "rpg", "said", "sample",
    "saying", "says", "script", "sentence", "story", "suppose", "supposing", "tells", "template",
    "told", "translate", "translated", "translation", "unless", "whether", "wish", "wrote", NULL};

static int is_hedge_ctx(const struct cl *c, int k)
{
    int j;
    for (j = k - 1; j >= c->s && j >= k - 3; j--)
        if (tis(c, j, "sure") || tis(c, j, "wondering") || tis(c, j, "know") ||
            tis(c, j, "decided") || tis(c, j, "decide") || tis(c, j, "see") ||
            tis(c, j, "wonder") || tis(c, j, "unsure") || tis(c, j, "undecided") ||
            tis(c, j, "deciding") || tis(c, j, "debating") || tis(c, j, "figure") ||
            tis(c, j, "idk"))
            return 1;
    return 0;
}

static int skip_fillers(const struct cl *c, int p)
{
    while (p < c->e) {
        if (tin(c, p, L_FILLERS))
            p++;
        else if (tis(c, p, "just") && (tis(c, p + 1, "i") || tin(c, p + 1, L_FILLERS)))
            p++;
        else if (tis(c, p, "by") && tis(c, p + 1, "the") && tis(c, p + 2, "way"))
            p += 3;
        else if (tis(c, p, "to") && tis(c, p + 1, "be") && tis(c, p + 2, "honest"))
            p += 3;
        else if (tis(c, p, "for") && tis(c, p + 1, "context"))
            p += 2;
        else if (tis(c, p, "just") && tis(c, p + 1, "so") && tis(c, p + 2, "you") &&
                 tis(c, p + 3, "know"))
            p += 4;
        else if (tis(c, p, "as") && tis(c, p + 1, "of") && (tis(c, p + 2, "now") ||
                                                             tis(c, p + 2, "today")))
            p += 3;
        else if (tis(c, p, "these") && tis(c, p + 1, "days"))
            p += 2;
        else if (tis(c, p, "in") && tis(c, p + 1, "my") &&
                 (tis(c, p + 2, "free") || tis(c, p + 2, "spare")) && tis(c, p + 3, "time"))
            p += 4;
        else if ((tis(c, p, "at") || tis(c, p, "outside")) &&
                 (tis(c, p + 1, "work") || tis(c, p + 1, "home")))
            p += 2;
        else if (tis(c, p, "on") && tis(c, p + 1, "weekends"))
            p += 2;
        else if ((tis(c, p, "no") || tis(c, p, "nah") || tis(c, p, "nope") ||
                  tis(c, p, "yes") || tis(c, p, "yeah") || tis(c, p, "yep")) &&
                 (tis(c, p + 1, "i") || tis(c, p + 1, ",") || tis(c, p + 1, "we") ||
                  tis(c, p + 1, "my")))
            p++;
        else if (tis(c, p, "maybe") || tis(c, p, "perhaps") || tis(c, p, "probably") ||
                 tis(c, p, "possibly") || tis(c, p, "hopefully"))
            p++; /* the clause is still marked hedged by its words */
        else if (tis(c, p, "nowadays") || tis(c, p, "lately") || tis(c, p, "personally") ||
                 tis(c, p, "generally") || tis(c, p, "usually") || tis(c, p, "normally"))
            p++;
        else if (tis(c, p, "in") && tis(c, p + 1, "case") && tis(c, p + 2, "you"))
            return c->e;
        else
            break;
    }
    return p;
}

/* --- instructions ---------------------------------------------------------------------- */

struct kw {
    const char *w;
    const char *key;
    const char *val;
};

static const struct kw instr_kw[] = {
    {"bullet", "response_format", "bullet points"},
    {"bullets", "response_format", "bullet points"},
    {"bullet-point", "response_format", "bullet points"},
    {"bullet-points", "response_format", "bullet points"},
    {"bulleted", "response_format", "bullet points"},
    {"numbered", "response_format", "numbered lists"},
    {"table", "response_format", "tables"},
    {"tables", "response_format", "tables"},
    {"markdown", "response_format", "markdown"},
    {"plain", "response_format", "plain text"},
    {"prose", "response_format", "prose"},
    {"paragraphs", "response_format", "paragraphs"},
    {"headings", "response_format", "headings"},
    {"headers", "response_format", "headings"},
    {"step-by-step", "response_format", "step-by-step"},
    {"json", "response_format", "JSON"},
    {"emojis", "response_format", "emojis"},
    {"emoji", "response_format", "emojis"},
    {"tl;dr", "response_format", "TL;DR first"},
    {"tldr", "response_format", "TL;DR first"},
    {"short", "response_length", "short"},
    {"shorter", "response_length", "short"},
    {"brief", "response_length", "brief"},
    {"briefer", "response_length", "brief"},
    {"concise", "response_length", "concise"},
    {"succinct", "response_length", "concise"},
    {"terse", "response_length", "terse"},
    {"long", "response_length", "long"},
    {"longer", "response_length", "long"},
    {"detailed", "response_length", "detailed"},
    {"detail", "response_length", "detailed"},
    {"in-depth", "response_length", "detailed"},
    {"thorough", "response_length", "detailed"},
    {"comprehensive", "response_length", "detailed"},
    {"verbose", "response_length", "detailed"},
    {"elaborate", "response_length", "detailed"},
    {"casual", "tone", "casual"},
    {"casually", "tone", "casual"},
    {"formally", "tone", "formal"},
    {"briefly", "response_length", "brief"},
    {"concisely", "response_length", "concise"},
    {"informal", "tone", "casual"},
    {"formal", "tone", "formal"},
    {"friendly", "tone", "friendly"},
    {"professional", "tone", "professional"},
    {"blunt", "tone", "blunt"},
    {"direct", "tone", "direct"},
    {"funny", "tone", "funny"},
    {"humorous", "tone", "humorous"},
    {"playful", "tone", "playful"},
    {"serious", "tone", "serious"},
    {"warm", "tone", "warm"},
    {"polite", "tone", "polite"},
    {"sarcastic", "tone", "sarcastic"},
    {"encouraging", "tone", "encouraging"},
    {"gentle", "tone", "gentle"},
    {"honest", "tone", "honest"},
    {"straightforward", "tone", "straightforward"},
    {"technical", "tone", "technical"},
    {"simple", "tone", "simple"},
    {"jargon", "tone", "no jargon"},
    {"filler", "tone", "no filler"},
    {"fluff", "tone", "no fluff"},
    {"enthusiastic", "tone", "enthusiastic"},
    {"neutral", "tone", "neutral"},
    {"empathetic", "tone", "empathetic"},
    {NULL, NULL, NULL}};

static const struct kw plain_lang = {"plain", "tone", "plain language"};

static const char *const instr_verbs[] = {
    "add", "always", "answer", "avoid", "be", "bring", "communicate", "cut", "discuss", "dont",
    "drop", "explain", "format", "give", "include", "keep", "leave", "less", "limit", "make",
    "mention", "more", "never", "no", "only", "prefer", "put", "reply", "respond", "send", "show",
    "skip", "speak", "stay", "stop", "structure", "switch", "talk", "use", "write", NULL};

/* Words that, after an avoid/don't-verb, introduce the topic to avoid. */
static int find_topic_start(const struct cl *c, int p)
{
    int j;
    for (j = p; j < c->e && j < p + 9; j++) {
        if (tis(c, j, "about") || tis(c, j, "mention") || tis(c, j, "mentioning") ||
            tis(c, j, "discuss") || tis(c, j, "discussing") || (tis(c, j, "bring") &&
                                                                tis(c, j + 1, "up")) ||
            tis(c, j, "avoid") || tis(c, j, "recommend") || tis(c, j, "suggest")) {
            int k = j + 1;
            if (tis(c, j, "bring"))
                k++;
            if (tis(c, k, "up"))
                k++;
            /* "avoid talking about my weight" */
            if (tis(c, j, "avoid") && (tis(c, k, "talking") || tis(c, k, "discussing") ||
                                        tis(c, k, "mentioning") || tis(c, k, "bringing")))
                continue;
            if (tis(c, k, "anything") && tis(c, k + 1, "about"))
                k += 2;
            if (tis(c, k, "topics") && tis(c, k + 1, "like"))
                k += 2;
            if (tis(c, k, "the") && tis(c, k + 1, "topic") && tis(c, k + 2, "of"))
                k += 3;
            return k;
        }
    }
    return -1;
}

/* A negation word shortly before t[j] ("no markdown", "don't use emojis", "stop using"). */
static int negated_near(const struct cl *c, int j, int from)
{
    int k;
    for (k = j - 1; k >= from && k >= j - 4; k--)
        if (tis(c, k, "not") || tis(c, k, "never") || tis(c, k, "no") || tis(c, k, "avoid") ||
            tis(c, k, "stop") || tis(c, k, "without") || tis(c, k, "less") ||
            tis(c, k, "skip") || tis(c, k, "drop") || tis(c, k, "fewer"))
            return 1;
    return 0;
}

/*
 * How the user wants to be answered. Returns 1 when the clause was an instruction (facts
 * emitted or not), 0 to let the clause be read as a statement.
 */
static int instruction(struct cl *c, int p, int imperative)
{
    int j, found = 0, hate = 0, lang_at = -1, code = 0, resp = 0, from_user = 0, k;
    char v[VBUF];

    if (!imperative) {
        /* "I prefer bullet points", "I'd like shorter answers", "I hate long replies" */
        if (!tis(c, p, "i"))
            return 0;
        for (j = p + 1; j < c->e && j < p + 5; j++)
            if (tis(c, j, "prefer") || tis(c, j, "like") || tis(c, j, "want") ||
                tis(c, j, "need") || tis(c, j, "love") || tis(c, j, "hate") ||
                tis(c, j, "dislike") || tis(c, j, "appreciate") || tis(c, j, "rather") ||
                tis(c, j, "find"))
                break;
        if (j >= c->e || j >= p + 5)
            return 0;
        /* "I want you to be more concise": an order in the form of a wish */
        if (tis(c, j + 1, "you") && tis(c, j + 2, "to") && j + 3 < c->e &&
            instruction(c, j + 3, 1) && c->emitted)
            return 1;
        if (tis(c, j, "hate") || tis(c, j, "dislike"))
            hate = 1;
        from_user = 1;
        /* "I don't want to talk about work" */
        {
            int ts = find_topic_start(c, p), neg2 = 0;
            for (k = p; k < ts && k < c->e; k++)
                if (tis(c, k, "not") || tis(c, k, "never"))
                    neg2 = 1;
            if (ts > 0 && ts < c->e && neg2 && (tis(c, ts - 1, "about") ||
                                                tis(c, ts - 2, "about"))) {
                list(c, EG_FACT_ASSERT, "avoid_topics", ts, VT_TOPIC);
                return 1;
            }
        }
    }
    for (j = p; j < c->e; j++) {
        if (tin(c, j, L_RESP_NOUNS))
            resp = 1;
        (void)0;
        if ((tis(c, j, "in") || tis(c, j, "use") || tis(c, j, "using")) && j + 1 < c->e &&
            (tin(c, j + 1, L_SPOKEN) || is_prog(c->t[j + 1].w)) && lang_at < 0)
            lang_at = j + 1;
    }
    /* "When writing code, use TypeScript": the code may be named in another clause */
    for (j = 0; j < c->x->n; j++)
        if (eg_x_is(&c->x->t[j], "code") || eg_x_is(&c->x->t[j], "examples") ||
            eg_x_is(&c->x->t[j], "snippets") || eg_x_is(&c->x->t[j], "scripts") ||
            eg_x_is(&c->x->t[j], "coding") || eg_x_is(&c->x->t[j], "programming"))
            code = 1;
    if (from_user && !resp) {
        /* Without a word about answers, "I like tables" is only an instruction when the
         * thing liked is a format word. */
        int any = 0;
        for (j = p; j < c->e; j++)
            for (k = 0; instr_kw[k].w; k++)
                if (strcmp(instr_kw[k].key, "response_format") == 0 &&
                    strcmp(c->t[j].w, instr_kw[k].w) == 0)
                    any = 1;
        if (!any)
            return 0;
    }
    /* code language / response language */
    if (lang_at >= 0) {
        const struct eg_tok *t = &c->t[lang_at];
        const char *ci = canon_of(t->w);
        if (is_prog(t->w) && code && ci) {
            out(c, EG_FACT_ASSERT, "code_language", ci, strlen(ci), NULL, 0,
                lang_at + 1);
            found = 1;
        } else if (tin(c, lang_at, L_SPOKEN) && ci && !is_prog(t->w)) {
            out(c, negated_near(c, lang_at, p) ? EG_FACT_NEGATE : EG_FACT_ASSERT,
                "response_language", ci, strlen(ci), NULL, 0, lang_at + 1);
            found = 1;
        }
    }
    /* topics to avoid: "don't talk about politics", "never mention my ex", "avoid religion" */
    if (imperative) {
        int ts = find_topic_start(c, p);
        if (ts < 0 && tis(c, p, "avoid"))
            ts = p + 1;
        while (ts > 0 && ts < c->e && (tis(c, ts, "using") || tis(c, ts, "use") ||
                                       tis(c, ts, "any") || tis(c, ts, "too")))
            ts++; /* "avoid using jargon" is about style, see the keywords below */
        if (ts > 0 && ts < c->e && (negated_near(c, ts, p) || tis(c, ts - 1, "avoid") ||
                                     negated_near(c, ts - 1, p) ||
                                     negated_near(c, ts - 2, p))) {
            int is_fmt = 0;
            for (k = 0; instr_kw[k].w; k++)
                if (strcmp(c->t[ts].w, instr_kw[k].w) == 0)
                    is_fmt = 1;
            if (!is_fmt) {
                list(c, EG_FACT_ASSERT, "avoid_topics", ts, VT_TOPIC);
                return 1;
            }
        }
    }
    for (j = p; j < c->e; j++) {
        for (k = 0; instr_kw[k].w; k++) {
            const struct kw *w = &instr_kw[k];
            int neg;
            if (c->t[j].w[0] != w->w[0] || strcmp(c->t[j].w, w->w) != 0)
                continue;
            if (strcmp(w->w, "plain") == 0 && !tis(c, j + 1, "text") &&
                !tis(c, j + 1, "english") && !tis(c, j + 1, "language"))
                continue;
            if (strcmp(w->w, "plain") == 0 && !tis(c, j + 1, "text"))
                w = &plain_lang;
            /* "short" only speaks about answers in an instruction, not "a short trip" */
            if (strcmp(w->key, "response_length") == 0 && !imperative && !resp)
                continue;
            neg = negated_near(c, j, p);
            if (strcmp(w->key, "response_format") == 0 && neg) {
                size_t n = strlen(w->val);
                if (n + 3 < sizeof(v)) {
                    memcpy(v, "no ", 3);
                    memcpy(v + 3, w->val, n);
                    out(c, EG_FACT_ASSERT, w->key, v, n + 3, NULL, 0, j + 1);
                }
            } else if (strcmp(w->key, "response_length") == 0 && (hate || neg)) {
                /* "I hate long answers" -> short */
                const char *opp = (w->val[0] == 'l' || w->val[0] == 'd') ? "short" : "detailed";
                out(c, EG_FACT_ASSERT, w->key, opp, strlen(opp), NULL, 0, j + 1);
            } else if (strcmp(w->val, "no jargon") == 0 || strcmp(w->val, "no filler") == 0 ||
                       strcmp(w->val, "no fluff") == 0) {
                out(c, EG_FACT_ASSERT, w->key, w->val, strlen(w->val), NULL, 0, j + 1);
            } else if ((neg || hate) && strcmp(w->key, "tone") == 0) {
                out(c, EG_FACT_NEGATE, w->key, w->val, strlen(w->val), NULL, 0, j + 1);
            } else {
                out(c, EG_FACT_ASSERT, w->key, w->val, strlen(w->val), NULL, 0, j + 1);
            }
            found = 1;
            break;
        }
    }
    if (!found && tis(c, p, "call") && tis(c, p + 1, "me") && p + 2 < c->e) {
        value(c, EG_FACT_ASSERT, "name", p + 2, VT_NAME);
        return 1;
    }
    if (!found && tis(c, p, "remind") && tis(c, p + 1, "me") && tis(c, p + 2, "to")) {
        value(c, EG_FACT_ASSERT, "tasks", p + 3, VT_PHRASE);
        return 1;
    }
    return found || imperative;
}

/* The user's people: "my sister", "my wife Anna", "my dog Rex". */
static int subject_my(struct cl *c, int p)
{
    int r = p + 1;
    const struct eg_tok *t;
    char v[VBUF];
    size_t n;

    while (r < c->e && r < p + 3 && (tis(c, r, "older") || tis(c, r, "younger") ||
                                     tis(c, r, "little") || tis(c, r, "big") ||
                                     tis(c, r, "best") || tis(c, r, "oldest") ||
                                     tis(c, r, "youngest") || tis(c, r, "new") ||
                                     tis(c, r, "twin")))
        r++;
    if (r >= c->e)
        return -1;
    t = &c->t[r];
    if (!inl(t, L_RELATIONS) && !inl(t, L_OTHERS) && !inl(t, L_PETS))
        return -1;
    c->subj = SJ_OTHER;
    n = render(c, p + 1, r + 1, VT_PHRASE, v, sizeof(v));
    if ((t->flags & TF_POSS) && n > 2 && v[n - 2] == '\'' && v[n - 1] == 's')
        n -= 2;
    if (n >= sizeof(c->ename))
        n = sizeof(c->ename) - 1;
    memcpy(c->ename, v, n);
    c->ename[n] = '\0';
    r++;
    /* a name right after: "my sister Anna", "my dog Rex" */
    if (r < c->e && (c->t[r].flags & TF_CAP) && !(c->t[r].flags & TF_SYN) && !tis(c, r, "i")) {
        char nm[VBUF];
        int ne = cut(c, r, VT_NAME);
        size_t nn = render(c, r, ne, VT_NAME, nm, sizeof(nm));
        if (nn && n + nn + 1 < sizeof(v)) {
            v[n++] = ' ';
            memcpy(v + n, nm, nn);
            n += nn;
        }
        r = ne;
    }
    {
        /* The user has this person or pet: their own fact (family / pets). */
        int fam = inl(t, L_RELATIONS), pet = inl(t, L_PETS);
        int save = c->subj;
        /* "my dog's name is Rex" */
        if ((t->flags & TF_POSS) && tis(c, r, "name") && tis(c, r + 1, "is") && r + 2 < c->e) {
            char nm[VBUF];
            int ne = cut(c, r + 2, VT_NAME);
            size_t nn = render(c, r + 2, ne, VT_NAME, nm, sizeof(nm));
            if (nn && n + nn + 1 < sizeof(v)) {
                v[n++] = ' ';
                memcpy(v + n, nm, nn);
                n += nn;
            }
            r = ne;
        } else if ((tis(c, r, "is") || tis(c, r, "was")) &&
                   (tis(c, r + 1, "named") || tis(c, r + 1, "called")) && r + 2 < c->e) {
            char nm[VBUF];
            int ne = cut(c, r + 2, VT_NAME);
            size_t nn = render(c, r + 2, ne, VT_NAME, nm, sizeof(nm));
            if (nn && n + nn + 1 < sizeof(v)) {
                v[n++] = ' ';
                memcpy(v + n, nm, nn);
                n += nn;
            }
            r = ne;
        }
        if ((fam || pet) && !c->hedge) {
            c->subj = SJ_I;
            out(c, EG_FACT_ASSERT, pet ? "pets" : "family", v, n, NULL, 0, r);
            c->subj = save;
        }
    }
    return r;
}

/* "The quarterly report is due Friday", "my thesis is due in two weeks" -> an open task */
static int due_clause(struct cl *c, int p)
{
    int j, a = p;
    char v[VBUF];
    size_t n;

    for (j = p + 1; j + 1 < c->e && j < p + 8; j++)
        if ((tis(c, j, "is") || tis(c, j, "are")) && tis(c, j + 1, "due"))
            break;
    if (j + 1 >= c->e || j >= p + 8 || !c->when_n)
        return 0;
    if (tis(c, a, "my") || tis(c, a, "our") || tis(c, a, "the"))
        a++;
    n = render(c, a, j, VT_PHRASE, v, sizeof(v));
    if (n) {
        c->subj = SJ_I;
        out(c, EG_FACT_ASSERT, "tasks", v, n, NULL, 0, j + 2);
    }
    return 1;
}

/* "we shipped the migration, it's done" / "the migration is done" -> close the project */
static int done_word(const struct cl *c, int k)
{
    return tis(c, k, "done") || tis(c, k, "finished") || tis(c, k, "complete") ||
           tis(c, k, "completed") || tis(c, k, "shipped") || tis(c, k, "over") ||
           tis(c, k, "launched") || tis(c, k, "live") || tis(c, k, "cancelled") ||
           tis(c, k, "canceled") || tis(c, k, "dead") || tis(c, k, "wrapped");
}

static int done_clause(struct cl *c, int p)
{
    int j, k = 0;
    char v[VBUF];
    size_t n;

    for (j = p + 1; j < c->e && j < p + 8; j++) {
        if (!(tis(c, j, "is") || tis(c, j, "are") || tis(c, j, "was")))
            continue;
        /* "the migration is (finally) done" */
        for (k = j + 1; k < c->e && (tin(c, k, L_ADVERBS) || tis(c, k, "already")); k++)
            ;
        if (done_word(c, k))
            break;
    }
    if (j >= c->e || j >= p + 8)
        return 0;
    if (!(tis(c, p, "my") || tis(c, p, "our") || tis(c, p, "the") || (c->t[p].flags & TF_CAP)))
        return 0;
    if (tis(c, p, "i"))
        return 0;
    n = render(c, p, j, VT_PHRASE, v, sizeof(v));
    if (n) {
        c->subj = SJ_I;
        out(c, EG_FACT_NEGATE, "projects", v, n, NULL, 0, k + 1);
    }
    return 1;
}

/*
 * "I'm an introvert who loves board games": "who" points back at the user only when the
 * words before it are "am a <noun>", not "asking for a friend who ...".
 */
static int who_is_user(const struct cl *c, int from, int who)
{
    int k, be = 0;

    for (k = from; k < who; k++) {
        if (tis(c, k, "am"))
            be = 1;
        if (tin(c, k, L_PREPS) || tin(c, k, L_RELATIONS) || tin(c, k, L_OTHERS))
            return 0;
    }
    return be;
}

static void clause(struct eg_xs *x, int s, int e, int hedged)
{
    struct cl c;
    int p, guard = 0, imperative = 0, carry_be = 0;

    memset(&c, 0, sizeof(c));
    c.x = x;
    c.t = x->t;
    c.s = s;
    c.e = e;
    c.hedge = hedged;
    p = skip_fillers(&c, s);
    if (p >= e)
        return;
    /* "hey im jess, 28": only right after a greeting is "I'm <word>" an introduction */
    if (s == 0 && p > s && (tis(&c, s, "hi") || tis(&c, s, "hey") || tis(&c, s, "hello") ||
                            tis(&c, s, "yo") || tis(&c, s, "hiya")) &&
        tis(&c, p, "i") && tis(&c, p + 1, "am") && p + 2 < e &&
        (p + 3 >= e || (c.t[p + 3].flags & TF_PUNCT) || tis(&c, p + 3, "and") ||
         tis(&c, p + 3, "here")))
        c.greeting = 1;
    /* the first date expression, for valid_from and dated values */
    {
        int j, past = 0;
        /* Tense comes from the first verb after the subject: "I joined Stripe in March",
         * but "I'm getting married in June" looks ahead. */
        for (j = p; j < e && j < p + 7; j++) {
            if (tis(&c, j, "i") || tis(&c, j, "we") || tin(&c, j, L_ADVERBS) ||
                tis(&c, j, "last") || tis(&c, j, "week") || tis(&c, j, "month") ||
                tis(&c, j, "year") || tis(&c, j, "yesterday") || tis(&c, j, "have") ||
                tis(&c, j, "has") || tis(&c, j, "ago") || (c.t[j].flags & TF_PUNCT))
                continue;
            if (is_past_word(&c.t[j]) || tis(&c, j, "was") || tis(&c, j, "were") ||
                tis(&c, j, "did") || tis(&c, j, "had"))
                past = 1;
            break;
        }
        for (j = p; j < e; j++) {
            int k;
            if (!(c.t[j].w[0] >= '0' && c.t[j].w[0] <= '9') && !inl(&c.t[j], L_DATEWORDS))
                continue;
            k = eg_x_date(x->t, j, e, x->turn_ms, past, &c.when);
            if (k > 0) {
                c.when_i = j;
                c.when_n = k;
                break;
            }
        }
    }
    /* a clause that opens with a time expression: "last week I ran a marathon" */
    if (c.when_n && c.when_i == p) {
        p = skip_fillers(&c, p + c.when_n);
        if (p >= e)
            return;
    }
    {
        int j;
        for (j = s; j < e; j++) { /* from s: "maybe", "perhaps" were skipped as fillers */
            if (c.when_n && j >= c.when_i && j < c.when_i + c.when_n)
                continue; /* "in May" is a month, not a hedge */
            if (tin(&c, j, L_HEDGES) || ((tis(&c, j, "not") || tis(&c, j, "no")) &&
                                       (tis(&c, j + 1, "sure") || tis(&c, j + 1, "decided") ||
                                        tis(&c, j + 1, "certain") || tis(&c, j + 1, "idea"))))
                c.hedge = 1;
            if ((tis(&c, j, "kind") || tis(&c, j, "sort")) && tis(&c, j + 1, "of") &&
                j + 2 < e && !tis(&c, j - 1, "a") && !tis(&c, j - 1, "what"))
                c.hedge = 1;
            if (tis(&c, j, "i") && (tis(&c, j + 1, "think") || tis(&c, j + 1, "guess") ||
                                    tis(&c, j + 1, "suppose") || tis(&c, j + 1, "believe")))
                c.hedge = 1;
            if (tis(&c, j, "anymore") || (tis(&c, j, "any") && tis(&c, j + 1, "more")) ||
                (tis(&c, j, "no") && tis(&c, j + 1, "longer")))
                c.ended = 1;
        }
    }
    /* "Not sure if I'll stay in London": what follows "if" is the hedged statement */
    if (((tis(&c, p, "not") || tis(&c, p, "no")) && tis(&c, p + 1, "sure")) ||
        tis(&c, p, "unsure") || tis(&c, p, "undecided")) {
        int j;
        for (j = p + 1; j < e && j < p + 5; j++)
            if (tis(&c, j, "if") || tis(&c, j, "whether"))
                break;
        if (j < e && j < p + 5) {
            c.hedge = 1;
            p = j + 1;
        }
    }
    /* "Remember that I prefer metric units", "note that I'm left-handed": the rest is a
     * statement the user wants kept. */
    if (tis(&c, p, "do") && tis(&c, p + 1, "not") && tis(&c, p + 2, "forget") &&
        (tis(&c, p + 3, "i") || tis(&c, p + 3, "that") || tis(&c, p + 3, "my")))
        p += 2; /* "don't forget I have ...": now reads like "forget ..." below */
    if ((tis(&c, p, "remember") || tis(&c, p, "note") || tis(&c, p, "forget") ||
         (tis(&c, p, "keep") &&
                                                         tis(&c, p + 1, "in") &&
                                                         tis(&c, p + 2, "mind"))) &&
        !x->question) {
        int q = p + (tis(&c, p, "keep") ? 3 : 1);
        if (tis(&c, q, "that"))
            q++;
        if (tis(&c, q, "i") || tis(&c, q, "my") || tis(&c, q, "we"))
            p = q;
    }
    if (tis(&c, p, "please") || tis(&c, p, "pls"))
        p++, imperative = 1;
    if ((tis(&c, p, "from") && tis(&c, p + 1, "now") && tis(&c, p + 2, "on")) ||
        (tis(&c, p, "going") && tis(&c, p + 1, "forward")) ||
        (tis(&c, p, "in") && tis(&c, p + 1, "the") && tis(&c, p + 2, "future"))) {
        p += tis(&c, p, "going") ? 2 : 3;
        while (p < e && (c.t[p].flags & TF_PUNCT))
            p++;
        imperative = 1;
    }
    if (p >= e)
        return;
    /* requests and instructions aimed at the assistant */
    if ((tin(&c, p, L_INSTR_VERBS) || tis(&c, p, "do") || imperative) &&
        !(tis(&c, p, "no") && tis(&c, p + 1, "longer"))) {
        int q = p;
        if (tis(&c, q, "do") && tis(&c, q + 1, "not"))
            q += 2;
        if (tis(&c, q, "ever"))
            q++;
        if (tis(&c, q, "dont") || tis(&c, q, "never") || tis(&c, q, "always") ||
            tis(&c, q, "just") || tis(&c, q, "only") || tis(&c, q, "also"))
            q++;
        if (tin(&c, q, L_INSTR_VERBS) || tis(&c, q, "call") || tis(&c, q, "remind") ||
            tis(&c, p, "please")) {
            if (instruction(&c, p, 1))
                return;
        }
    }
    if (tis(&c, p, "call") || tis(&c, p, "remind")) {
        if (instruction(&c, p, 1))
            return;
    }
    /* "Shorter answers please", "Answers in German please": no verb, still an instruction */
    if (!x->question && !tis(&c, p, "i") && !tis(&c, p, "my") && !tis(&c, p, "we")) {
        int j, resp = 0;
        for (j = p; j < e && j < p + 4; j++)
            if (tis(&c, j, "answers") || tis(&c, j, "responses") || tis(&c, j, "replies") ||
                tis(&c, j, "answer") || tis(&c, j, "response") || tis(&c, j, "emojis") ||
                tis(&c, j, "markdown") || tis(&c, j, "bullets"))
                resp = 1;
        if (resp && instruction(&c, p, 1))
            return;
    }
    /* "As a nurse, I work long shifts" */
    if (tis(&c, p, "as") && (tis(&c, p + 1, "a") || tis(&c, p + 1, "an")) && !x->question) {
        int j, end = cut(&c, p + 2, VT_ROLE);
        for (j = p + 2; j < end; j++)
            if (is_role_head(&c, j)) {
                c.subj = SJ_I;
                c.casual = 1;
                role_value(&c, p + 2, 0);
                break;
            }
        return;
    }
    /* "About me: name's Ben" */
    if (tis(&c, p, "name") && tis(&c, p + 1, "is") && p + 2 < e && !x->question) {
        c.subj = SJ_I;
        value(&c, EG_FACT_ASSERT, "name", p + 2, VT_NAME);
        return;
    }
    if (tis(&c, p, "you") && tis(&c, p + 1, "can") && tis(&c, p + 2, "call") &&
        tis(&c, p + 3, "me")) {
        c.subj = SJ_I;
        value(&c, EG_FACT_ASSERT, "name", p + 4, VT_NAME);
        return;
    }
    if (tin(&c, p, L_REQUEST_VERBS) || (tin(&c, p, L_Q_WORDS) && !tis(&c, p, "am") &&
                                      !(tis(&c, p, "have") && tis(&c, p + 1, "been")) &&
                                      !tis(&c, p, "have") && !tis(&c, p, "was") &&
                                      !tis(&c, p, "do") && !tis(&c, p, "will")) ||
        tis(&c, p, "you") || tis(&c, p, "your"))
        return;
    /* who is this about? */
    if (tis(&c, p, "i")) {
        c.subj = SJ_I;
        c.casual = !(c.t[p].flags & TF_CAP);
        /* instructions phrased as the user's taste: "I prefer bullet points" */
        if (instruction(&c, p, 0))
            return;
        p++;
    } else if (tis(&c, p, "we")) {
        c.subj = SJ_WE;
        p++;
    } else if (tis(&c, p, "my") || tis(&c, p, "our")) {
        int r, j;
        for (j = 0; after_my[j].seq; j++) {
            int end;
            if (match(&c, p, after_my[j].seq, &end)) {
                c.subj = SJ_I;
                c.casual = 0;
                if (run_pattern(&c, &after_my[j], end, p) > end)
                    return;
            }
        }
        if (done_clause(&c, p) || due_clause(&c, p))
            return;
        r = subject_my(&c, p);
        if (r < 0)
            return;
        p = r;
        if (c.t[r - 1].flags & TF_POSS)
            return; /* "my sister's wedding": about her, and not a statement of ours */
    } else {
        /* Casual chat drops the subject: "just moved to london", "working on a new app". */
        const struct eg_tok *t = &c.t[p];
        int j;
        /* "Pizza is my favorite food" */
        for (j = p + 1; j + 2 < e && j < p + 6; j++)
            if ((tis(&c, j, "is") || tis(&c, j, "are")) && tis(&c, j + 1, "my") &&
                tis(&c, j + 2, "favorite") && !x->question) {
                char v[VBUF];
                size_t n = render(&c, p, j, VT_LIST, v, sizeof(v));
                c.subj = SJ_I;
                if (n)
                    out(&c, EG_FACT_ASSERT, "likes", v, n, NULL, 0, j);
                return;
            }
        if (done_clause(&c, p) || due_clause(&c, p))
            return;
        if (x->question)
            return;
        if (tis(&c, p, "just") || tis(&c, p, "currently") || tis(&c, p, "recently") ||
            tis(&c, p, "still") || tis(&c, p, "finally") || tis(&c, p, "been") ||
            tis(&c, p, "now") || tis(&c, p, "also") ||
            (t->len > 4 && strcmp(t->w + t->len - 3, "ing") == 0) ||
            (t->len > 3 && strcmp(t->w + t->len - 2, "ed") == 0) || tis(&c, p, "got") ||
            tis(&c, p, "left") || tis(&c, p, "quit") || tis(&c, p, "went") ||
            tis(&c, p, "love") || tis(&c, p, "hate") || tis(&c, p, "live") ||
            tis(&c, p, "work") || tis(&c, p, "started") || tis(&c, p, "finally") ||
            (tis(&c, p, "not") && c.ended) || (tis(&c, p, "no") && tis(&c, p + 1, "longer")) ||
            ((tis(&c, p, "big") || tis(&c, p, "huge")) && tis(&c, p + 1, "fan")) ||
            ((tis(&c, p, "want") || tis(&c, p, "need") || tis(&c, p, "hope") ||
              tis(&c, p, "plan")) && tis(&c, p + 1, "to"))) {
            c.subj = SJ_I;
            c.casual = 1;
            carry_be = 1; /* "currently unemployed", "just a bit tired" */
        } else {
            return;
        }
    }
    if (x->question)
        return;

    /* The verb group, then phrases, possibly several: "I left Acme and joined Initech". */
    while (p < e && guard++ < 8 && x->rc == ENGRAM_OK) {
        int last_be = carry_be, r = -1, start = p, after_past = 0;
        const struct pat *tab = after_subject;

        c.neg = 0;
        c.perfect = 0;
        c.past = 0;
        while (p < e) {
            if (c.subj == SJ_OTHER || c.subj == SJ_I || c.subj == SJ_WE) {
                r = try_table(&c, tab, p, last_be || (p == start && c.subj == SJ_I &&
                                                      c.casual && 0));
                if (r >= 0)
                    break;
                if (last_be && !c.past) {
                    int before = c.emitted;
                    r = be_complement(&c, p);
                    if (c.emitted > before && r > p)
                        break;
                    r = -1;
                }
            }
            if (tis(&c, p, "used") && tis(&c, p + 1, "to")) {
                /* "I used to live in Rome": it held, and no longer does */
                c.neg = 1;
                c.ended = 1;
                p += 2;
                continue;
            }
            if (tis(&c, p, "not") || tis(&c, p, "never") ||
                (tis(&c, p, "no") && tis(&c, p + 1, "longer"))) {
                c.neg = 1;
                if (tis(&c, p, "no"))
                    c.ended = 1, p++;
                p++;
                continue;
            }
            if (tin(&c, p, L_BE_FORMS))
                last_be = 1;
            else if (last_be && (tis(&c, p, "a") || tis(&c, p, "an"))) {
                p++; /* "I'm an expert in", "I'm not a fan of" */
                continue;
            }
            else if (!tis(&c, p, "just") && !tis(&c, p, "also") && !tis(&c, p, "now") &&
                     !tis(&c, p, "still") && !tis(&c, p, "currently") &&
                     !tis(&c, p, "actually") && !tis(&c, p, "really") &&
                     !tis(&c, p, "originally") && !tis(&c, p, "recently") &&
                     !tis(&c, p, "finally") && !tis(&c, p, "officially"))
                last_be = 0;
            if (tis(&c, p, "have") || tis(&c, p, "has") || tis(&c, p, "been"))
                c.perfect = 1;
            if (tis(&c, p, "was") || tis(&c, p, "were") || tis(&c, p, "did") ||
                tis(&c, p, "had") || tis(&c, p, "used"))
                c.past = 1;
            if (tin(&c, p, L_VGROUP) || tin(&c, p, L_HEDGES) || tis(&c, p, "to") ||
                tis(&c, p, "thinking") || tis(&c, p, "about") || tis(&c, p, "of") ||
                tis(&c, p, "whether") || tis(&c, p, "decided") || tis(&c, p, "sure") ||
                tis(&c, p, "if") || tis(&c, p, "will") || tis(&c, p, "would") ||
                (c.hedge && p < start + 6)) {
                p++;
                continue;
            }
            break;
        }
        if (r < 0 || r <= p) {
            /* a dated past event: "I ran a marathon last week", "just adopted a puppy" */
            if (r < 0 && p > start && p < e && is_past_word(&c.t[p - 1]) &&
                !is_past_word(&c.t[p]))
                p--; /* "I got my license yesterday": "got" was taken for an auxiliary */
            if (r < 0 && p < e && c.subj == SJ_I && !c.neg && !c.hedge &&
                is_past_word(&c.t[p]) && !tis(&c, p, "used") &&
                (c.when_n && c.when.ms <= x->turn_ms)) {
                char v[VBUF];
                int end = cut(&c, p, VT_PHRASE);
                size_t n = render(&c, p, end, VT_PHRASE, v, sizeof(v));
                if (n)
                    out(&c, EG_FACT_ASSERT, "events", v, n, NULL, 0, end);
            }
            (void)after_past;
            /* "I'm a mum of two from Manchester" */
            if (r < 0 && c.subj == SJ_I && !c.hedge) {
                int j, be = 0;
                for (j = start; j + 1 < e; j++) {
                    if (tis(&c, j, "am"))
                        be = 1;
                    /* not "I'm asking for a friend from Ohio" */
                    if ((c.t[j].len > 4 && strcmp(c.t[j].w + c.t[j].len - 3, "ing") == 0) ||
                        tis(&c, j, "for") || tis(&c, j, "with") || tis(&c, j, "to") ||
                        tis(&c, j, "about") || tin(&c, j, L_OTHERS))
                        break;
                    if (be && tis(&c, j, "from") && (c.t[j + 1].flags & TF_CAP) &&
                        !(c.when_n && c.when_i == j + 1) && !tis(&c, j + 1, "i")) {
                        value(&c, EG_FACT_ASSERT, "hometown", j + 1, VT_PLACE);
                        break;
                    }
                }
            }
            /* "I work in customer support for Zendesk" */
            if (r < 0 && c.subj == SJ_I && !c.hedge && p < e &&
                (tis(&c, p, "work") || tis(&c, p, "works") || tis(&c, p, "working"))) {
                int j;
                for (j = p + 1; j + 1 < e && j < p + 8; j++)
                    if ((tis(&c, j, "for") || tis(&c, j, "at")) && (c.t[j + 1].flags & TF_CAP) &&
                        !(c.when_n && c.when_i == j) && !tis(&c, j + 1, "i")) {
                        value(&c, c.neg ? EG_FACT_NEGATE : EG_FACT_ASSERT, "employer", j + 1,
                              VT_ORG);
                        break;
                    }
            }
            /* "I work in a hospital as a radiologist" */
            if (r < 0 && c.subj == SJ_I) {
                int j, k;
                for (j = p; j + 2 < e; j++)
                    if (tis(&c, j, "as") && (tis(&c, j + 1, "a") || tis(&c, j + 1, "an"))) {
                        int end = cut(&c, j + 2, VT_ROLE);
                        for (k = j + 2; k < end; k++)
                            if (is_role_head(&c, k))
                                break;
                        if (k < end)
                            role_value(&c, j + 2, 0);
                        break;
                    }
            }
            /* "I develop iOS apps in Swift" */
            if (r < 0 && c.subj == SJ_I && !c.hedge) {
                int j;
                for (j = p; j + 1 < e; j++)
                    if ((tis(&c, j, "in") || tis(&c, j, "using")) && is_prog(c.t[j + 1].w) &&
                        ((c.t[j + 1].flags & TF_CAP) || c.t[j + 1].len > 2) &&
                        !tis(&c, j + 1, "go")) {
                        const char *ci = canon_of(c.t[j + 1].w);
                        if (ci)
                            out(&c, c.neg ? EG_FACT_NEGATE : EG_FACT_ASSERT,
                                "programming_languages", ci, strlen(ci),
                                NULL, 0, j + 2);
                        break;
                    }
            }
            /* "I'm a mom of two and work part-time as a pharmacist", "I'm a Brit living
             * in Madrid": the same subject may go on to say something we know. */
            {
                int j, found = -1;
                for (j = p + 1; j < e && found < 0; j++) {
                    const struct eg_tok *t = &c.t[j];
                    if (tis(&c, j - 1, "and") || tis(&c, j - 1, "but") ||
                        (tis(&c, j - 1, "who") && who_is_user(&c, start, j - 1)) ||
                        (t->len > 4 && strcmp(t->w + t->len - 3, "ing") == 0) ||
                        tis(&c, j, "based"))
                        found = j;
                }
                if (found < 0 || c.subj == SJ_NONE)
                    return;
                p = found;
                carry_be = 0;
                if (!tis(&c, p - 1, "and"))
                    guard++;
                continue;
            }
        }
        /* "I'm 52 and retired": the "be" carries over the "and" */
        carry_be = last_be;
        p = r;
        /* another phrase for the same subject: ", and joined", "and started at" */
        while (p < e && ((c.t[p].flags & TF_PUNCT) || tis(&c, p, "and") || tis(&c, p, "then") ||
                         tis(&c, p, "but") || tis(&c, p, "also") || tis(&c, p, "so")))
            p++;
        if (tis(&c, p, "i")) {
            p++;
            c.subj = SJ_I;
        }
    }
}

static int clause_break(const struct eg_xs *x, int i)
{
    const struct eg_tok *t = &x->t[i];

    if (i + 1 >= x->n)
        return 0;
    if (t->w[0] == '"' || t->w[0] == '(' || t->w[0] == ')')
        return 1;
    if (t->w[0] == ':' && !(i > 0 && (eg_x_is(&x->t[i - 1], "languages") ||
                                      eg_x_is(&x->t[i - 1], "include") ||
                                      eg_x_is(&x->t[i - 1], "are"))))
        return 1; /* "About me: name's Ben" */
    if (t->w[0] == ',' && (eg_x_is(&x->t[i + 1], "and") || eg_x_is(&x->t[i + 1], "or")) &&
        i + 2 < x->n && !inl(&x->t[i + 2], L_STARTS))
        return 0; /* "coffee, tea, and hot chocolate": the Oxford comma ends a list */
    if (t->w[0] == ',' || t->w[0] == ':') {
        const struct eg_tok *nx = &x->t[i + 1], *pv = i > 0 ? &x->t[i - 1] : t;
        int ing_next = nx->len > 4 && strcmp(nx->w + nx->len - 3, "ing") == 0;
        int ing_prev = pv->len > 4 && strcmp(pv->w + pv->len - 3, "ing") == 0;
        /* "hiking, biking and camping" is a list, not three clauses */
        return inl(nx, L_STARTS) || is_past_word(nx) || (ing_next && !ing_prev);
    }
    if (eg_x_is(t, "when") && i > 0 &&
        (eg_x_is(&x->t[i - 1], "it") || eg_x_is(&x->t[i - 1], "like") ||
         eg_x_is(&x->t[i - 1], "love") || eg_x_is(&x->t[i - 1], "prefer") ||
         eg_x_is(&x->t[i - 1], "hate") || eg_x_is(&x->t[i - 1], "appreciate")))
        return 0; /* "I like it when you use tables" is one thought */
    if (eg_x_is(t, "but") || eg_x_is(t, "because") || eg_x_is(t, "although") ||
        eg_x_is(t, "though") || eg_x_is(t, "whereas") || eg_x_is(t, "while") ||
        eg_x_is(t, "cause") || eg_x_is(t, "btw") || eg_x_is(t, "tbh") ||
        eg_x_is(t, "since") || eg_x_is(t, "so") || eg_x_is(t, "before") ||
        eg_x_is(t, "after") || eg_x_is(t, "until") || eg_x_is(t, "once") ||
        eg_x_is(t, "when"))
        return i > 0 && (eg_x_is(&x->t[i + 1], "i") || eg_x_is(&x->t[i + 1], "we") ||
                         eg_x_is(&x->t[i + 1], "my") || eg_x_is(&x->t[i + 1], "our") ||
                         eg_x_is(&x->t[i + 1], "it") || eg_x_is(&x->t[i + 1], "that") ||
                         eg_x_is(&x->t[i + 1], "the") || eg_x_is(&x->t[i + 1], "he") ||
                         eg_x_is(&x->t[i + 1], "she") || eg_x_is(&x->t[i + 1], "they") ||
                         eg_x_is(&x->t[i + 1], "you") || eg_x_is(&x->t[i + 1], "please") ||
                         eg_x_is(t, "btw") || eg_x_is(t, "tbh"));
    if (eg_x_is(t, "and") || eg_x_is(t, "or") || eg_x_is(t, "then"))
        return eg_x_is(&x->t[i + 1], "i") || eg_x_is(&x->t[i + 1], "we") ||
               eg_x_is(&x->t[i + 1], "my") || eg_x_is(&x->t[i + 1], "our") ||
               eg_x_is(&x->t[i + 1], "he") || eg_x_is(&x->t[i + 1], "she") ||
               eg_x_is(&x->t[i + 1], "they") || eg_x_is(&x->t[i + 1], "it") ||
               eg_x_is(&x->t[i + 1], "please") || eg_x_is(&x->t[i + 1], "you") ||
               eg_x_is(&x->t[i + 1], "btw") || eg_x_is(&x->t[i + 1], "keep") ||
               eg_x_is(&x->t[i + 1], "use") || eg_x_is(&x->t[i + 1], "always") ||
               eg_x_is(&x->t[i + 1], "never") || eg_x_is(&x->t[i + 1], "don't") ||
               (eg_x_is(&x->t[i + 1], "do") && i + 2 < x->n &&
                eg_x_is(&x->t[i + 2], "not")) || eg_x_is(&x->t[i + 1], "the");
    return 0;
}

void eg_x_sentence(struct eg_xs *x)
{
    int i, s = 0, n = x->n, first;
    struct cl probe;
    int hedge_from = n;

    memset(&probe, 0, sizeof(probe));
    probe.x = x;
    probe.t = x->t;
    probe.s = 0;
    probe.e = n;
    first = skip_fillers(&probe, 0);
    if (first >= n)
        return;
    if ((tis(&probe, first, "can") || tis(&probe, first, "could") ||
         tis(&probe, first, "would") || tis(&probe, first, "will")) &&
        tis(&probe, first + 1, "you")) {
        /* "can you always answer in Spanish from now on" is still an instruction */
        for (i = first; i < n; i++)
            if (tis(&probe, i, "always") || (tis(&probe, i, "from") &&
                                             tis(&probe, i + 1, "now")) ||
                tis(&probe, i, "future") || tis(&probe, i, "forward"))
                break;
        if (i >= n)
            return;
        x->question = 0; /* "can you always answer in English?" is an instruction */
        clause(x, first + 2, n, 0);
        return;
    }
    /* A question about anything is not a statement of fact. */
    if (x->question)
        return;
    if (tin(&probe, first, L_Q_WORDS) && first + 1 < n &&
        (tis(&probe, first + 1, "you") || tis(&probe, first + 1, "i") ||
         tis(&probe, first + 1, "we") || tis(&probe, first + 1, "it") ||
         tis(&probe, first + 1, "there") || tis(&probe, first + 1, "my") ||
         tis(&probe, first + 1, "the") || tis(&probe, first + 1, "is") ||
         tis(&probe, first + 1, "do") || tis(&probe, first + 1, "does") ||
         tis(&probe, first + 1, "are") || tis(&probe, first + 1, "should") ||
         tis(&probe, first + 1, "can") || tis(&probe, first + 1, "would") ||
         tis(&probe, first + 1, "a") || tis(&probe, first + 1, "an") ||
         tis(&probe, first + 1, "anyone") || tis(&probe, first + 1, "to")) &&
        !(tis(&probe, first, "am") || tis(&probe, first, "have") ||
          tis(&probe, first, "was") || tis(&probe, first, "will")))
        return;
    /* "Summarize this: I live in Paris ..." - what follows the colon is material, not news. */
    if (tin(&probe, first, L_REQUEST_VERBS) && !tis(&probe, first, "remind"))
        for (i = first; i < n; i++)
            if (x->t[i].w[0] == ':')
                return;
    /* Hypotheticals, fiction, quotes and translations end the part we believe. */
    for (i = 0; i < n; i++) {
        if (x->t[i].w[0] == '"' && (x->t[i].flags & TF_PUNCT)) {
            n = i;
            break;
        }
        if (inl(&x->t[i], L_HYPO_WORDS)) {
            if (eg_x_is(&x->t[i], "if") && i > 0 &&
                (eg_x_is(&x->t[i - 1], "prefer") || eg_x_is(&x->t[i - 1], "it") ||
                 eg_x_is(&x->t[i - 1], "appreciate") || eg_x_is(&x->t[i - 1], "rather")))
                continue; /* "I'd prefer if you kept answers brief" */
            if ((eg_x_is(&x->t[i], "if") || eg_x_is(&x->t[i], "whether")) &&
                is_hedge_ctx(&probe, i)) {
                if (hedge_from > i)
                    hedge_from = i;
                continue;
            }
            if ((eg_x_is(&x->t[i], "novel") || eg_x_is(&x->t[i], "story") ||
                 eg_x_is(&x->t[i], "character") || eg_x_is(&x->t[i], "script") ||
                 eg_x_is(&x->t[i], "poem") || eg_x_is(&x->t[i], "lyrics") ||
                 eg_x_is(&x->t[i], "sentence") || eg_x_is(&x->t[i], "protagonist")) &&
                !(i > 0 && (eg_x_is(&x->t[i - 1], "in") || eg_x_is(&x->t[i - 1], "for"))) &&
                !(i > 1 && (eg_x_is(&x->t[i - 2], "in") || eg_x_is(&x->t[i - 2], "for"))) &&
                !(i + 1 < x->n && (eg_x_is(&x->t[i + 1], "is") ||
                                   eg_x_is(&x->t[i + 1], "lives") ||
                                   eg_x_is(&x->t[i + 1], "has"))) &&
                !(x->t[i].flags & TF_POSS))
                continue; /* "I'm working on a novel" is a project, not fiction */
            if (eg_x_is(&x->t[i], "dream") && i > 0 && (eg_x_is(&x->t[i - 1], "my") ||
                                                       eg_x_is(&x->t[i - 1], "the") ||
                                                       eg_x_is(&x->t[i - 1], "a")))
                continue;
            n = i;
            break;
        }
        if (eg_x_is(&x->t[i], "what") && i + 1 < x->n && eg_x_is(&x->t[i + 1], "if")) {
            n = i;
            break;
        }
        if ((eg_x_is(&x->t[i], "let") || eg_x_is(&x->t[i], "lets")) && i + 1 < x->n &&
            (eg_x_is(&x->t[i + 1], "us") || eg_x_is(&x->t[i + 1], "say"))) {
            n = i;
            break;
        }
        if (eg_x_is(&x->t[i], "would") && i > 0 && eg_x_is(&x->t[i - 1], "i") &&
            i + 1 < x->n && !eg_x_is(&x->t[i + 1], "like") && !eg_x_is(&x->t[i + 1], "love") &&
            !eg_x_is(&x->t[i + 1], "prefer") && !eg_x_is(&x->t[i + 1], "rather") &&
            !eg_x_is(&x->t[i + 1], "appreciate")) {
            n = i > 0 ? i - 1 : 0; /* "I'd live in Paris" (conditional) */
            break;
        }
    }
    for (i = 0; i < n; i++) {
        if (i == s && i > 0)
            continue;
        if (clause_break(x, i) && i > s) {
            clause(x, s, i, hedge_from < i);
            s = (x->t[i].flags & TF_PUNCT) ? i + 1 : i;
        }
    }
    if (s < n)
        clause(x, s, n, hedge_from < n);
}

static const char *const *list_of(int id, size_t *out_n)
{
    switch (id) {
    case L_FILLERS:
        *out_n = sizeof(fillers) / sizeof(fillers[0]) - 1;
        return fillers;
    case L_VGROUP:
        *out_n = sizeof(vgroup) / sizeof(vgroup[0]) - 1;
        return vgroup;
    case L_HEDGES:
        *out_n = sizeof(hedges) / sizeof(hedges[0]) - 1;
        return hedges;
    case L_BE_FORMS:
        *out_n = sizeof(be_forms) / sizeof(be_forms[0]) - 1;
        return be_forms;
    case L_STOP_ALL:
        *out_n = sizeof(stop_all) / sizeof(stop_all[0]) - 1;
        return stop_all;
    case L_PREPS:
        *out_n = sizeof(preps) / sizeof(preps[0]) - 1;
        return preps;
    case L_PRONOUNS:
        *out_n = sizeof(pronouns) / sizeof(pronouns[0]) - 1;
        return pronouns;
    case L_RELATIONS:
        *out_n = sizeof(relations) / sizeof(relations[0]) - 1;
        return relations;
    case L_OTHERS:
        *out_n = sizeof(others) / sizeof(others[0]) - 1;
        return others;
    case L_PETS:
        *out_n = sizeof(pets) / sizeof(pets[0]) - 1;
        return pets;
    case L_ROLE_HEADS:
        *out_n = sizeof(role_heads) / sizeof(role_heads[0]) - 1;
        return role_heads;
    case L_DIETS:
        *out_n = sizeof(diets) / sizeof(diets[0]) - 1;
        return diets;
    case L_NATIONALITIES:
        *out_n = sizeof(nationalities) / sizeof(nationalities[0]) - 1;
        return nationalities;
    case L_SPOKEN:
        *out_n = sizeof(spoken) / sizeof(spoken[0]) - 1;
        return spoken;
    case L_EVENT_NOUNS:
        *out_n = sizeof(event_nouns) / sizeof(event_nouns[0]) - 1;
        return event_nouns;
    case L_TRIP_NOUNS:
        *out_n = sizeof(trip_nouns) / sizeof(trip_nouns[0]) - 1;
        return trip_nouns;
    case L_DEGREE_WORDS:
        *out_n = sizeof(degree_words) / sizeof(degree_words[0]) - 1;
        return degree_words;
    case L_BASE_VERBS:
        *out_n = sizeof(base_verbs) / sizeof(base_verbs[0]) - 1;
        return base_verbs;
    case L_IRREGULAR_PAST:
        *out_n = sizeof(irregular_past) / sizeof(irregular_past[0]) - 1;
        return irregular_past;
    case L_RESP_NOUNS:
        *out_n = sizeof(resp_nouns) / sizeof(resp_nouns[0]) - 1;
        return resp_nouns;
    case L_Q_WORDS:
        *out_n = sizeof(q_words) / sizeof(q_words[0]) - 1;
        return q_words;
    case L_REQUEST_VERBS:
        *out_n = sizeof(request_verbs) / sizeof(request_verbs[0]) - 1;
        return request_verbs;
    case L_HYPO_WORDS:
        *out_n = sizeof(hypo_words) / sizeof(hypo_words[0]) - 1;
        return hypo_words;
    case L_ADVERBS:
        *out_n = sizeof(adverbs) / sizeof(adverbs[0]) - 1;
        return adverbs;
    case L_INSTR_VERBS:
        *out_n = sizeof(instr_verbs) / sizeof(instr_verbs[0]) - 1;
        return instr_verbs;
    case L_STARTS:
        *out_n = sizeof(starts) / sizeof(starts[0]) - 1;
        return starts;
    case L_DATEWORDS:
        *out_n = sizeof(datewords) / sizeof(datewords[0]) - 1;
        return datewords;
    default:
        *out_n = 0;
        return fillers + (sizeof(fillers) / sizeof(fillers[0]) - 1); /* empty */
    }
}
