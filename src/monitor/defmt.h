/* defmt logs from the serial port: the table in the firmware's ELF, a streaming decoder
 * that tells frames from plain text, and the output format of espflash's
 * `-F/--output-format`.
 *
 * Wire format (defmt 0.3 / 1.x, wire format version 4, also 3; encoding rzcobs):
 * - The ELF's `.defmt` section (or `.defmt.*` sections) holds one symbol per format
 *   string: its name is a JSON object {"package","tag","data","disambiguator",
 *   "crate_name"}, its address the string's index. `tag` says what it is (defmt_trace
 *   ... defmt_error and defmt_println: log statements; defmt_prim, defmt_derived,
 *   defmt_write, defmt_str, defmt_bitflags: strings the frames refer to;
 *   defmt_timestamp: the timestamp's format; defmt_bitflags_value: a 16-byte value).
 *   Symbols `_defmt_version_ = N` and `_defmt_encoding_ = rzcobs` name the format.
 * - A frame is the u16 index of its log statement, the timestamp's arguments (when the
 *   firmware has a timestamp), then the arguments in the order of their positions:
 *   integers little endian at their width (usize 4 bytes), bool one byte, f32/f64 their
 *   bits, char a u32, str and [u8] a u32 length then the bytes, [u8; N] N bytes, istr a
 *   u16 index, `{}`/`{=?}` a u16 index of a format string then its arguments (an enum's
 *   `A|B(...)` first the variant number, u8 below 256 variants), `{=[?]}` a u32 count,
 *   one u16 index and the elements, Debug2Format/Display2Format text ended by 0xFF, a
 *   Format impl's sequence of write! calls (u16 index, arguments) ended by index 0,
 *   bit fields `{0=3..7}` the bytes that hold them.
 * - Each frame is rzcobs-encoded and ended by 0x00. esp-println (feature
 *   defmt-espflash) writes 0xFF 0x00 before each frame, so frames and plain text (the
 *   bootloader's, esp_println::println!) share the port; its very first frame has one
 *   more 0x00 in front (defmt's encoder starts with a separator).
 *
 * Refused (a frame using them is a "malformed frame" line): the raw encoding (no frame
 * boundaries: text and frames cannot be told apart), wire format versions other than
 * 3 and 4 (table load fails), defmt 0.2's LEB128 lengths and compressed bools (that is
 * wire format 0.2, which has no version symbol of this form). Shown differently from
 * defmt-decoder: `:cbor` byte strings are shown as a byte list, not CBOR diagnostic
 * notation; dates past year 9999 with `:iso8601` as the plain number; str Debug escapes
 * ASCII control characters only.
 *
 * A table is immutable once loaded and may be shared by threads; a decoder and a
 * format belong to one thread at a time. Nothing here prints: lines go to the
 * caller's callback. */
#ifndef EG_MONITOR_DEFMT_H
#define EG_MONITOR_DEFMT_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct eg_defmt_table eg_defmt_table;
typedef struct eg_defmt_decoder eg_defmt_decoder;
typedef struct eg_defmt_format eg_defmt_format;

/* Where each log statement is in the source, from the ELF's DWARF. */
typedef enum eg_defmt_locations {
    EG_DEFMT_LOCATIONS_NONE = 0, /* no DWARF, or no log statement found in it */
    EG_DEFMT_LOCATIONS_ALL,      /* every log statement has its file and line */
    EG_DEFMT_LOCATIONS_PARTIAL,  /* some only: like espflash, none are shown */
} eg_defmt_locations;

/* Loads the defmt table of the ELF at elf_path: its format strings, timestamp format,
 * bitflags values and, from its DWARF when it has them, each log statement's file, line
 * and module path. On error *out is NULL and:
 *   EG_ENOTFOUND    "cannot open 'X': ..." (no such file), or "no defmt data in 'X'
 *                   (is defmt linked in?)": neither a `.defmt` section nor a version
 *                   symbol;
 *   EG_EIO          the file cannot be read;
 *   EG_EUNSUPPORTED a wire format version other than 3 and 4, or the raw encoding;
 *   EG_EINVAL       not an ELF, a version symbol without a `.defmt` section or the
 *                   reverse, no encoding symbol, two versions, two timestamps, a symbol
 *                   whose name is not the JSON defmt writes (the message gives the
 *                   index and the start of the name).
 * Every message starts with 'elf_path': . Free with eg_defmt_table_free(). */
int eg_defmt_table_load(eg_defmt_table **out, const char *elf_path);

/* Frees a table (NULL is fine). Decoders and formats made from it must be freed first. */
void eg_defmt_table_free(eg_defmt_table *table);

/* The number of log statements (trace ... error and println) in the table. */
size_t eg_defmt_table_statements(const eg_defmt_table *table);

/* 1 when frames carry a timestamp (the firmware has defmt::timestamp!), else 0. */
int eg_defmt_table_has_timestamp(const eg_defmt_table *table);

/* How many log statements have a source location (see eg_defmt_locations). Lines and
 * formats use locations only when it is EG_DEFMT_LOCATIONS_ALL. */
eg_defmt_locations eg_defmt_table_locations(const eg_defmt_table *table);

typedef enum eg_defmt_kind {
    EG_DEFMT_TEXT = 0,  /* bytes outside frames, as received */
    EG_DEFMT_FRAME,     /* a decoded frame */
    EG_DEFMT_MALFORMED, /* bytes between separators that are no frame of this table */
} eg_defmt_kind;

typedef enum eg_defmt_level {
    EG_DEFMT_PRINTLN = 0, /* defmt::println!: no level */
    EG_DEFMT_TRACE,
    EG_DEFMT_DEBUG,
    EG_DEFMT_INFO,
    EG_DEFMT_WARN,
    EG_DEFMT_ERROR,
} eg_defmt_level;

/* What the decoder hands its callback. Pointers are valid during the call only. */
typedef struct eg_defmt_line {
    eg_defmt_kind kind;
    /* EG_DEFMT_TEXT: the bytes (they may hold any byte value, 0x00 and 0xFF too). */
    const uint8_t *text;
    size_t text_len;
    /* EG_DEFMT_FRAME: */
    eg_defmt_level level;
    uint16_t index;        /* the log statement's index in the table */
    const char *timestamp; /* the formatted timestamp; NULL when the table has none */
    /* FRAME: the formatted message. MALFORMED: why, and the frame's size
     * ("malformed defmt frame (9 bytes): unknown format index 0x0999"). */
    const char *message;
    const char *file;   /* the source file; NULL unless the table's locations are ALL */
    unsigned line;      /* its line; 0 when file is NULL */
    const char *module; /* module path ("app::sensor"), may be ""; NULL with file */
} eg_defmt_line;

typedef void (*eg_defmt_emit_fn)(void *ctx, const eg_defmt_line *line);

/* Decoder flags. */
enum {
    /* Every byte belongs to a frame: no 0xFF 0x00 markers and no text (a port that
     * carries only defmt's rzcobs stream). Default: espflash's framing. */
    EG_DEFMT_BARE = 1,
};

/* Frames longer than this (encoded, before the 0x00) are reported as malformed. */
#define EG_DEFMT_FRAME_MAX 16384
/* A decoded message longer than this is reported as malformed. */
#define EG_DEFMT_MESSAGE_MAX 65536

/* Makes a streaming decoder over table (which must outlive it). flags: 0 or
 * EG_DEFMT_BARE. Only EG_ENOMEM or EG_EINVAL (unknown flags). */
int eg_defmt_decoder_new(eg_defmt_decoder **out, const eg_defmt_table *table, unsigned flags);

/* Frees a decoder (NULL is fine). Bytes of an unfinished frame are dropped. */
void eg_defmt_decoder_free(eg_defmt_decoder *dec);

/* Feeds len bytes as they came from the port, in any pieces. emit is called, in
 * order, for each run of text (everything outside frames; a 0xFF at the very end is
 * held back until the next byte says whether it starts a frame) and for each frame
 * completed, decoded or malformed. A malformed frame never stops the stream: decoding
 * goes on after its 0x00. A frame that fails to decode and ends in 0xFF is taken as
 * garbage followed by a frame marker (a board reset in the middle of a frame), so the
 * frame after it is not lost. Returns EG_ENOMEM only (the stream state is then reset). */
int eg_defmt_decoder_feed(eg_defmt_decoder *dec, const uint8_t *bytes, size_t len,
                          eg_defmt_emit_fn emit, void *ctx);

/* Forgets a frame in progress and a held-back 0xFF, and goes back to text (BARE: to
 * waiting for a frame); the next frame is the board's first. For the caller's board
 * resets. */
void eg_defmt_decoder_reset(eg_defmt_decoder *dec);

/* Output format of the lines (espflash's -F/--output-format, defmt-decoder's log
 * format): spec NULL or "oneline" is espflash's default, "{t} {[{L}]%bold} {s}"
 * followed by " {({c:bold} {fff}:{l:1})%dimmed}" when every statement has a location
 * and without "{t} " when the firmware has no timestamp; "full" is
 * "{t} {L} {s}\n└─ {m} @ {F}:{l}" with the same rules; anything else is a format
 * string: text and {SPEC} segments, SPEC one of
 *   s message, L level (at least 5 wide), t timestamp, F file path, f/ff/fff... the
 *   file's last 1/2/3... path components, l line (at least 4 wide), m module path,
 *   c crate (the module path's first part),
 * then `:`-separated parameters: a colour (black red green yellow blue magenta purple
 * cyan white, severity, werror), a style (bold italic underline strike dimmed), a
 * width with optional alignment (`<` `^` `>`; a leading 0 pads with zeros); and groups
 * `{TEXT{SPEC}TEXT%PARAM%PARAM}`. It must contain {s}; `{`, `}` and `%` cannot be
 * escaped. Missing values show as <time>, <file>, <mod path>, <crate>, 0.
 * EG_EINVAL "output format 'SPEC': ... at column N" for a bad one. table says whether
 * there are timestamps and locations (read here only; it may be freed first). */
int eg_defmt_format_new(eg_defmt_format **out, const char *spec, const eg_defmt_table *table);

void eg_defmt_format_free(eg_defmt_format *fmt);

/* A warning about the format for the user, or NULL: a format with {t} for firmware
 * without a timestamp, or the reverse (defmt-decoder warns about both). */
const char *eg_defmt_format_warning(const eg_defmt_format *fmt);

/* Format flags. */
enum {
    EG_DEFMT_COLOR = 1, /* ANSI colours and styles as the format asks */
};

/* Appends the text of one line to out, without a line ending; a format may hold "\n".
 * FRAME with a level: the format; FRAME without (println): the message alone, as
 * defmt does; MALFORMED: its message; TEXT: nothing (text is the caller's). */
int eg_defmt_format_line(const eg_defmt_format *fmt, const eg_defmt_line *line, unsigned flags,
                         eg_buf *out);

/* "TRACE", "DEBUG", "INFO", "WARN", "ERROR", or "" for println. */
const char *eg_defmt_level_name(eg_defmt_level level);

#endif
