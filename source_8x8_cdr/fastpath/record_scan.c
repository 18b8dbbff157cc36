/* record_scan: a page's records checked against their schema's types and rewritten, in one pass in C.
 *
 * The compiled form of what `as_sent.py` does with msgspec and numpy (its module docstring says what a page
 * must hold to travel as sent). There, the check decodes every declared value into a Python object only to
 * throw it away (about 0.045 us per value, 0.85 us a CDR), and the instants are found and rewritten in
 * another pass over the page (0.5 us a CDR). Here one scan of each record's bytes checks each declared value's
 * type by its first bytes, rewrites the instants at an offset and the integers sent as text, and makes Python
 * objects only of each record's cursor and key.
 *
 * The bytes are JSON already checked by msgspec (`page_body.parsed_page`: the page, its UTF-8, each record an
 * object); every read is still bounded by the record's end. Anything this scan does not take for certain is
 * refused (the page then takes the converting path, which handles every form): an escaped member name, a
 * declared member twice in a record, a number with an exponent of more than two digits, a line break between
 * tokens, an escaped cursor or key. A refused page is left as it was sent: nothing is written until every record
 * has passed.
 *
 *   plan(members, cursor, key) -> plan        members: ((name: bytes, kind: int, detail), ...); detail is the
 *                                             nested members of an object, the item kind of an array, else None;
 *                                             cursor, key: their positions in members
 *   scan(page: bytearray, entries: list, plan) -> (cursors, keys) or None
 *                                             entries: each record's bytes within page (msgspec.Raw); keys in
 *                                             the form the slice filter keeps them (`filtering.seen_form`)
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The kinds of declared values (`as_sent._SCAN_KINDS` and the three after it). */
enum {
    K_STRING = 1,
    K_INTEGER = 2,
    K_NUMBER = 3,
    K_BOOLEAN = 4,
    K_OBJECT = 5,
    K_ARRAY = 6,
    K_INSTANT = 7,      /* a top-level date-time: `...000Z` kept, `...000-03:00` rewritten in UTC */
    K_UTC_TEXT = 8,     /* a nested date-time: text ending in `Z` */
    K_INTEGER_TEXT = 9, /* an integer, or its digits sent as text, rewritten as the integer */
};

#define MAX_MEMBERS 256
#define LONGEST_INTEGER 40  /* digits of an integer sent as text (`rewrites._LONGEST_INTEGER`) */
#define LONGEST_CURSOR 64   /* digits of an integer cursor or key */
#define INSTANT_UTC 26     /* `"2024-07-31T12:43:09.000Z"` with its quotes */
#define INSTANT_AT_OFFSET 31 /* `"2024-07-31T12:43:09.000-03:00"` */
#define TEXT_FLAG 0x80000000u /* a rewrite's offset flagged: an integer as text (else an instant) */

typedef struct Plan Plan;

typedef struct {
    char *name;
    Py_ssize_t length;
    int kind;
    int item; /* an array's item kind */
    Plan *nested; /* an object's members */
} Member;

struct Plan {
    Py_ssize_t count;
    Member *members;
    Py_ssize_t *next; /* after member i (count: the first), the member met next last time: looked at first */
    Py_ssize_t cursor, key;
};

/* ------------------------------------------------------------------------------------------------ the plan */

static void plan_free(Plan *plan) {
    if (plan == NULL)
        return;
    for (Py_ssize_t i = 0; i < plan->count; i++) {
        PyMem_Free(plan->members[i].name);
        plan_free(plan->members[i].nested);
    }
    PyMem_Free(plan->members);
    PyMem_Free(plan->next);
    PyMem_Free(plan);
}

static int is_scalar(long kind) {
    return kind == K_STRING || kind == K_INTEGER || kind == K_NUMBER || kind == K_BOOLEAN;
}

static Plan *plan_of(PyObject *members) {
    if (!PyTuple_Check(members) || PyTuple_GET_SIZE(members) > MAX_MEMBERS) {
        PyErr_SetString(PyExc_ValueError, "members: a tuple of at most 256 (name, kind, detail)");
        return NULL;
    }
    Plan *plan = PyMem_Calloc(1, sizeof(Plan));
    if (plan == NULL)
        return (Plan *)PyErr_NoMemory();
    Py_ssize_t count = PyTuple_GET_SIZE(members);
    plan->members = PyMem_Calloc(count ? count : 1, sizeof(Member));
    plan->next = PyMem_Calloc(count + 1, sizeof(Py_ssize_t));
    plan->cursor = plan->key = -1;
    if (plan->members == NULL || plan->next == NULL) {
        plan_free(plan);
        return (Plan *)PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *entry = PyTuple_GET_ITEM(members, i);
        char *name;
        Py_ssize_t length;
        long kind;
        PyObject *detail;
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 3 || PyBytes_AsStringAndSize(PyTuple_GET_ITEM(entry, 0), &name, &length) < 0) {
            PyErr_SetString(PyExc_ValueError, "a member: (name: bytes, kind: int, detail)");
            goto fail;
        }
        kind = PyLong_AsLong(PyTuple_GET_ITEM(entry, 1));
        detail = PyTuple_GET_ITEM(entry, 2);
        Member *member = &plan->members[plan->count++];
        member->name = PyMem_Malloc(length ? length : 1);
        if (member->name == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        for (Py_ssize_t at = 0; at < length; at++)
            if (name[at] == '"' || name[at] == '\\' || (unsigned char)name[at] < 0x20) {
                PyErr_SetString(PyExc_ValueError, "a member name that JSON escapes");
                goto fail;
            }
        memcpy(member->name, name, length);
        member->length = length;
        member->kind = (int)kind;
        if (kind == K_OBJECT) {
            member->nested = plan_of(detail);
            if (member->nested == NULL)
                goto fail;
        } else if (kind == K_ARRAY) {
            long item = PyLong_AsLong(detail);
            if (!is_scalar(item)) {
                PyErr_SetString(PyExc_ValueError, "an array's items: a scalar kind");
                goto fail;
            }
            member->item = (int)item;
        } else if (!(is_scalar(kind) || kind == K_INSTANT || kind == K_UTC_TEXT || kind == K_INTEGER_TEXT)) {
            PyErr_Format(PyExc_ValueError, "unknown kind %ld", kind);
            goto fail;
        }
    }
    for (Py_ssize_t i = 0; i <= count; i++)
        plan->next[i] = i < count ? i + 1 : 0;
    return plan;
fail:
    plan_free(plan);
    return NULL;
}

static void plan_capsule_free(PyObject *capsule) {
    plan_free(PyCapsule_GetPointer(capsule, "record_scan.plan"));
}

static int is_value_kind(const Plan *plan, Py_ssize_t at) {
    if (at < 0 || at >= plan->count)
        return 0;
    int kind = plan->members[at].kind;
    return kind == K_STRING || kind == K_INTEGER || kind == K_INSTANT || kind == K_UTC_TEXT || kind == K_INTEGER_TEXT;
}

static PyObject *make_plan(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *members;
    Py_ssize_t cursor, key;
    if (!PyArg_ParseTuple(args, "O!nn", &PyTuple_Type, &members, &cursor, &key))
        return NULL;
    Plan *plan = plan_of(members);
    if (plan == NULL)
        return NULL;
    if (!is_value_kind(plan, cursor) || !is_value_kind(plan, key)) {
        plan_free(plan);
        PyErr_SetString(PyExc_ValueError, "the cursor and the key: text, an instant or an integer");
        return NULL;
    }
    plan->cursor = cursor;
    plan->key = key;
    PyObject *capsule = PyCapsule_New(plan, "record_scan.plan", plan_capsule_free);
    if (capsule == NULL)
        plan_free(plan);
    return capsule;
}

/* ------------------------------------------------------------------------------------------------ tokens */

typedef const unsigned char *Bytes;

static inline int is_digit(unsigned char c) { return (unsigned char)(c - '0') <= 9; }

/* Spaces and tabs; a line break is refused (a RECORD message is one line): the caller then meets it. */
static inline Bytes skip_space(Bytes p, Bytes end) {
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* The end of the text opening at `p` (after its closing quote), NULL when it does not close; `*escaped` tells
 * whether it holds an escape. Sixteen bytes are compared at once where SSE2 is there (every x86-64): a loop byte
 * by byte mispredicts the end of each text, which cost as much as the rest of the scan. */
static Bytes text_end(Bytes p, Bytes end, int *escaped) {
    *escaped = 0;
    p++;
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    while (end - p >= 16) {
        __m128i block = _mm_loadu_si128((const __m128i *)p);
        unsigned found = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(block, quote), _mm_cmpeq_epi8(block, backslash)));
        if (found == 0) {
            p += 16;
            continue;
        }
        p += __builtin_ctz(found);
        if (*p == '"')
            return p + 1;
        *escaped = 1;
        p += 2; /* the escaped character (a quote, say) is not the end */
    }
#endif
    for (; p < end; p++) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\') {
            *escaped = 1;
            p++;
        }
    }
    return NULL;
}

static inline int is_delimiter(unsigned char c) {
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of any JSON value at `p`, NULL for a line break within it. */
static Bytes value_end(Bytes p, Bytes end) {
    int escaped;
    if (p >= end)
        return NULL;
    if (*p == '"')
        return text_end(p, end, &escaped);
    if (*p == '{' || *p == '[') {
        Py_ssize_t depth = 0;
        while (p < end) {
            unsigned char c = *p;
            if (c == '"') {
                p = text_end(p, end, &escaped);
                if (p == NULL)
                    return NULL;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return p + 1;
            } else if (c == '\n' || c == '\r')
                return NULL;
            p++;
        }
        return NULL;
    }
    while (p < end && !is_delimiter(*p))
        p++;
    return p;
}

static inline int is_literal(Bytes p, Bytes end, const char *word, Py_ssize_t length) {
    return end - p >= length && memcmp(p, word, length) == 0 && (end - p == length || is_delimiter(p[length]));
}

/* The end of a JSON number at `p` that msgspec reads as `int` (`integer`) or `float` without fail; else NULL. */
static Bytes number_end(Bytes p, Bytes end, int integer) {
    if (p < end && *p == '-')
        p++;
    Bytes digits = p;
    while (p < end && is_digit(*p))
        p++;
    Py_ssize_t count = p - digits;
    if (count == 0)
        return NULL;
    if (integer)
        return p == end || is_delimiter(*p) ? p : NULL; /* msgspec reads integers of any size */
    if (count > 200) /* with an exponent of two digits at most: far from a double's range */
        return NULL;
    if (p < end && *p == '.') {
        p++;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        Bytes exponent = p;
        while (p < end && is_digit(*p))
            p++;
        if (p == exponent || p - exponent > 2)
            return NULL;
    }
    return p == end || is_delimiter(*p) ? p : NULL;
}

static Bytes scalar_end(Bytes p, Bytes end, int kind) {
    int escaped;
    switch (kind) {
    case K_STRING:
        return *p == '"' ? text_end(p, end, &escaped) : NULL;
    case K_INTEGER:
        return number_end(p, end, 1);
    case K_NUMBER:
        return number_end(p, end, 0);
    case K_BOOLEAN:
        return is_literal(p, end, "true", 4) ? p + 4 : is_literal(p, end, "false", 5) ? p + 5 : NULL;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------------ instants */

static inline int two(Bytes p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

static int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 ? 28 + leap : days[month - 1];
}

/* Whether `text` (with its quotes, `width` bytes) is an instant this scan takes: with milliseconds, a date and
 * time that exist, from the year 1000, then `Z` or an offset of less than a day. At an offset, `utc` receives
 * its first 26 bytes in UTC (`"2024-07-31T15:43:09.000Z"`): the rest of the width becomes spaces. */
static int instant(Bytes text, Py_ssize_t width, unsigned char *utc) {
    static const int digits[] = {1, 2, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22, 23};
    static const int separators[] = {5, 8, 11, 14, 17, 20};
    static const char separator[] = "--T::.";
    if (width != INSTANT_UTC && width != INSTANT_AT_OFFSET)
        return 0;
    for (size_t i = 0; i < sizeof digits / sizeof *digits; i++)
        if (!is_digit(text[digits[i]]))
            return 0;
    for (size_t i = 0; i < sizeof separators / sizeof *separators; i++)
        if (text[separators[i]] != (unsigned char)separator[i])
            return 0;
    int year = two(text + 1) * 100 + two(text + 3), month = two(text + 6), day = two(text + 9);
    int hour = two(text + 12), minute = two(text + 15), second = two(text + 18);
    if (year < 1000 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59)
        return 0;
    if (width == INSTANT_UTC)
        return text[24] == 'Z' && text[25] == '"';
    if ((text[24] != '+' && text[24] != '-') || !is_digit(text[25]) || !is_digit(text[26]) || text[27] != ':' ||
        !is_digit(text[28]) || !is_digit(text[29]) || text[30] != '"')
        return 0;
    int offset_hours = two(text + 25), offset_minutes = two(text + 28);
    if (offset_hours > 23 || offset_minutes > 59)
        return 0;
    /* an offset of less than a day moves the instant to the day before or after at most */
    int of_day = hour * 60 + minute - (text[24] == '+' ? 1 : -1) * (offset_hours * 60 + offset_minutes);
    if (of_day < 0) {
        of_day += 1440;
        if (--day == 0) {
            if (--month == 0)
                month = 12, year--;
            day = days_in_month(year, month);
        }
    } else if (of_day >= 1440) {
        of_day -= 1440;
        if (++day > days_in_month(year, month)) {
            day = 1;
            if (++month == 13)
                month = 1, year++;
        }
    }
    if (year < 1000 || year > 9999)
        return 0;
    memcpy(utc, text, INSTANT_UTC);
    int numbers[] = {year / 100, year % 100, month, day, of_day / 60, of_day % 60};
    static const int at[] = {1, 3, 6, 9, 12, 15};
    for (int i = 0; i < 6; i++) {
        utc[at[i]] = (unsigned char)('0' + numbers[i] / 10);
        utc[at[i] + 1] = (unsigned char)('0' + numbers[i] % 10);
    }
    utc[24] = 'Z';
    utc[25] = '"';
    return 1;
}

/* ------------------------------------------------------------------------------------------------ records */

typedef struct {
    int kind; /* the member's kind; 0: absent */
    Bytes start, end; /* its value as sent */
    unsigned char utc[INSTANT_UTC]; /* an instant at an offset, in UTC */
    int rewritten;
} Found;

typedef struct {
    unsigned char *page;
    uint32_t *rewrites; /* offsets in the page of the values to rewrite (`TEXT_FLAG`: an integer as text) */
    Py_ssize_t count, room;
} Scan;

static int note_rewrite(Scan *scan, Bytes value, uint32_t flag) {
    if (scan->count == scan->room) {
        Py_ssize_t room = scan->room ? scan->room * 2 : 4096;
        uint32_t *grown = PyMem_Realloc(scan->rewrites, room * sizeof(uint32_t));
        if (grown == NULL)
            return -1;
        scan->rewrites = grown, scan->room = room;
    }
    scan->rewrites[scan->count++] = (uint32_t)(value - scan->page) | flag;
    return 0;
}

/* The declared member named `name` (-1: undeclared), remembered as the one that follows `previous`. */
static Py_ssize_t member_of(Plan *plan, Py_ssize_t previous, Bytes name, Py_ssize_t length) {
    for (Py_ssize_t i = 0; i < plan->count; i++)
        if (plan->members[i].length == length && memcmp(plan->members[i].name, name, length) == 0) {
            plan->next[previous] = i;
            return i;
        }
    return -1;
}

#define REFUSED ((Bytes)NULL)

/* After a member or an item at `p`: the start of the next one (`*more` set), or the end after the `close` that
 * ends the object or list (REFUSED for anything else). */
static Bytes next_item(Bytes p, Bytes end, unsigned char close, int *more) {
    p = skip_space(p, end);
    *more = p < end && *p == ',';
    if (*more)
        return skip_space(p + 1, end);
    return p < end && *p == close ? p + 1 : REFUSED;
}

/* The end of the declared value of `member` at `p` (any kind or null), noting its rewrite; REFUSED when it is
 * not of its kind (or -1 in `*failed` when memory ran out). */
static Bytes declared_end(Scan *scan, Bytes p, Bytes end, Member *member, Found *found, int *failed);

/* The end of the object at `p` whose members `plan` declares (REFUSED unless each has its kind). `found`, for
 * the top level, receives the cursor's and the key's values. */
static Bytes object_end(Scan *scan, Bytes p, Bytes end, Plan *plan, Found *cursor, Found *key, int *failed) {
    uint64_t seen[MAX_MEMBERS / 64] = {0};
    Py_ssize_t previous = plan->count;
    int escaped;
    if (p >= end || *p != '{')
        return REFUSED;
    p = skip_space(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        if (p >= end || *p != '"')
            return REFUSED;
        Py_ssize_t at = plan->next[previous];
        Bytes name_end;
        if (at < plan->count && plan->members[at].length + 2 <= end - p && p[plan->members[at].length + 1] == '"' &&
            memcmp(p + 1, plan->members[at].name, plan->members[at].length) == 0) {
            name_end = p + plan->members[at].length + 2; /* the member expected next (names hold no quote nor escape) */
        } else {
            name_end = text_end(p, end, &escaped);
            if (name_end == NULL || escaped)
                return REFUSED;
            at = member_of(plan, previous, p + 1, name_end - p - 2);
        }
        p = skip_space(name_end, end);
        if (p >= end || *p != ':')
            return REFUSED;
        p = skip_space(p + 1, end);
        if (at < 0) {
            p = value_end(p, end);
        } else {
            if (seen[at / 64] & (1ull << (at % 64)))
                return REFUSED; /* a declared member twice */
            seen[at / 64] |= 1ull << (at % 64);
            previous = at;
            Found *which = at == plan->cursor ? cursor : at == plan->key ? key : NULL;
            p = declared_end(scan, p, end, &plan->members[at], which, failed);
        }
        if (p == NULL)
            return REFUSED;
        int more;
        p = next_item(p, end, '}', &more);
        if (!more)
            return p;
    }
}

static Bytes declared_end(Scan *scan, Bytes p, Bytes end, Member *member, Found *found, int *failed) {
    Bytes after;
    int escaped;
    if (p >= end)
        return REFUSED;
    if (is_literal(p, end, "null", 4)) {
        after = p + 4;
        if (found != NULL)
            found->kind = -1; /* null */
        return after;
    }
    switch (member->kind) {
    case K_OBJECT:
        return object_end(scan, p, end, member->nested, NULL, NULL, failed);
    case K_ARRAY:
        if (*p != '[')
            return REFUSED;
        p = skip_space(p + 1, end);
        if (p < end && *p == ']')
            return p + 1;
        for (;;) {
            if (p >= end)
                return REFUSED;
            p = is_literal(p, end, "null", 4) ? p + 4 : scalar_end(p, end, member->item);
            if (p == NULL)
                return REFUSED;
            int more;
            p = next_item(p, end, ']', &more);
            if (!more)
                return p;
        }
    case K_INSTANT:
        if (*p != '"' || (after = text_end(p, end, &escaped)) == NULL || escaped)
            return REFUSED;
        {
            unsigned char utc[INSTANT_UTC];
            if (!instant(p, after - p, utc))
                return REFUSED;
            int at_offset = after - p == INSTANT_AT_OFFSET;
            if (at_offset && note_rewrite(scan, p, 0) < 0) {
                *failed = -1;
                return REFUSED;
            }
            if (found != NULL && (found->rewritten = at_offset))
                memcpy(found->utc, utc, INSTANT_UTC);
        }
        break;
    case K_UTC_TEXT:
        if (*p != '"' || (after = text_end(p, end, &escaped)) == NULL || escaped || after - p < 3 || after[-2] != 'Z')
            return REFUSED;
        break;
    case K_INTEGER_TEXT:
        if (*p == '"') {
            after = text_end(p, end, &escaped);
            if (after == NULL || escaped || after - p < 3 || after - p > LONGEST_INTEGER + 2)
                return REFUSED;
            for (Bytes digit = p + 1; digit < after - 1; digit++)
                if (!is_digit(*digit))
                    return REFUSED;
            if (note_rewrite(scan, p, TEXT_FLAG) < 0) {
                *failed = -1;
                return REFUSED;
            }
        } else if ((after = number_end(p, end, 1)) == NULL)
            return REFUSED;
        break;
    default:
        if ((after = scalar_end(p, end, member->kind)) == NULL)
            return REFUSED;
    }
    if (found != NULL) {
        found->kind = member->kind;
        found->start = p;
        found->end = after;
    }
    return after;
}

/* Whether `width` bytes at `p` are decimal digits in their canonical form: no leading zero, 18 at most. */
static int is_canonical_decimal(Bytes p, Py_ssize_t width) {
    if (width < 1 || width > 18 || (p[0] == '0' && width > 1))
        return 0;
    for (Py_ssize_t i = 0; i < width; i++)
        if (!is_digit(p[i]))
            return 0;
    return 1;
}

/* The integer written in `width` bytes at `p` (a sign, then 18 digits at most: within 64 bits). */
static PyObject *small_integer(Bytes p, Py_ssize_t width) {
    long long value = 0;
    int negative = *p == '-';
    for (Py_ssize_t i = negative; i < width; i++)
        value = value * 10 + (p[i] - '0');
    return PyLong_FromLongLong(negative ? -value : value);
}

/* The Python value of a record's cursor or key: None when absent or null; NULL with `*odd` set when it is text
 * with an escape (refused: rare enough to leave to the converting path). A key that is decimal text in its
 * canonical form is the integer (`filtering.seen_form`). */
static PyObject *value_of(const Found *found, int *odd, int is_key) {
    if (found->kind <= 0)
        Py_RETURN_NONE;
    Bytes p = found->start;
    Py_ssize_t width = found->end - p;
    if (is_key && found->kind == K_STRING && is_canonical_decimal(p + 1, width - 2))
        return small_integer(p + 1, width - 2);
    if (found->kind == K_INTEGER || found->kind == K_INTEGER_TEXT) {
        char digits[LONGEST_CURSOR + 2];
        if (*p == '"')
            p++, width -= 2;
        if (width <= 18)
            return small_integer(p, width);
        if (width > LONGEST_CURSOR) {
            *odd = 1;
            return NULL;
        }
        memcpy(digits, p, width);
        digits[width] = 0;
        return PyLong_FromString(digits, NULL, 10);
    }
    if (found->kind == K_INSTANT)
        return PyUnicode_DecodeASCII((const char *)(found->rewritten ? found->utc : p) + 1, INSTANT_UTC - 2, NULL);
    for (Py_ssize_t i = 1; i < width - 1; i++)
        if (p[i] == '\\') {
            *odd = 1;
            return NULL;
        }
    return PyUnicode_DecodeUTF8((const char *)p + 1, width - 2, NULL);
}

/* Writes the rewrites noted: each instant at an offset in UTC and five spaces, each integer as text as the
 * integer (its quotes and leading zeros as spaces), at the width it was sent in. */
static void rewrite(Scan *scan) {
    for (Py_ssize_t i = 0; i < scan->count; i++) {
        unsigned char *value = scan->page + (scan->rewrites[i] & ~TEXT_FLAG);
        if (scan->rewrites[i] & TEXT_FLAG) {
            unsigned char *last = (unsigned char *)memchr(value + 1, '"', LONGEST_INTEGER + 1) - 1;
            *value = ' ';
            last[1] = ' ';
            for (unsigned char *digit = value + 1; digit < last && *digit == '0'; digit++)
                *digit = ' ';
        } else {
            unsigned char utc[INSTANT_UTC];
            instant(value, INSTANT_AT_OFFSET, utc);
            memcpy(value, utc, INSTANT_UTC);
            memset(value + INSTANT_UTC, ' ', INSTANT_AT_OFFSET - INSTANT_UTC);
        }
    }
}

static PyObject *scan_page(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *page_object, *entries, *capsule, *result = NULL, *cursors = NULL, *keys = NULL;
    if (!PyArg_ParseTuple(args, "OO!O", &page_object, &PyList_Type, &entries, &capsule))
        return NULL;
    Plan *plan = PyCapsule_GetPointer(capsule, "record_scan.plan");
    if (plan == NULL)
        return NULL;
    Py_buffer page;
    if (PyObject_GetBuffer(page_object, &page, PyBUF_WRITABLE) < 0)
        return NULL;
    if (page.len >= (Py_ssize_t)TEXT_FLAG) { /* offsets are noted in 31 bits: such a page takes the converting path */
        PyBuffer_Release(&page);
        Py_RETURN_NONE;
    }
    Scan scan = {page.buf, NULL, 0, 0};
    Py_ssize_t count = PyList_GET_SIZE(entries);
    int failed = 0, odd = 0;
    cursors = PyList_New(count);
    keys = PyList_New(count);
    if (cursors == NULL || keys == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_buffer entry;
        if (PyObject_GetBuffer(PyList_GET_ITEM(entries, i), &entry, PyBUF_SIMPLE) < 0)
            goto done;
        Bytes start = entry.buf, end = start + entry.len;
        PyBuffer_Release(&entry); /* the entries keep the page alive: the bytes stay where they are */
        if (start < scan.page || end > scan.page + page.len) {
            PyErr_SetString(PyExc_ValueError, "an entry outside the page");
            goto done;
        }
        Found cursor = {0}, key = {0};
        Bytes after = object_end(&scan, start, end, plan, &cursor, &key, &failed);
        if (failed) {
            PyErr_NoMemory();
            goto done;
        }
        if (after == NULL || skip_space(after, end) != end)
            goto refused;
        PyObject *cursor_value = value_of(&cursor, &odd, 0), *key_value;
        if (cursor_value == NULL)
            goto odd_or_failed;
        PyList_SET_ITEM(cursors, i, cursor_value);
        key_value = value_of(&key, &odd, 1);
        if (key_value == NULL)
            goto odd_or_failed;
        PyList_SET_ITEM(keys, i, key_value);
    }
    rewrite(&scan);
    result = PyTuple_Pack(2, cursors, keys);
    goto done;
odd_or_failed:
    if (!odd)
        goto done;
refused:
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(cursors);
    Py_XDECREF(keys);
    PyMem_Free(scan.rewrites);
    PyBuffer_Release(&page);
    return result;
}

static PyMethodDef methods[] = {
    {"plan", make_plan, METH_VARARGS, "plan(members, cursor, key): what `scan` checks a page's records against."},
    {"scan", scan_page, METH_VARARGS,
     "scan(page, entries, plan): the records' cursors and keys, their values rewritten in place; None when a "
     "record is not as the plan declares (the page is then as it was)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "record_scan", "A page's records checked and rewritten in one pass (see as_sent.py).", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_record_scan(void) { return PyModule_Create(&module); }
