#include "chipdata.h"

#include "core/error.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ESP32-P4 has no magic value at 0x40001000; loaders that do not use GET_SECURITY_INFO
 * recognise it by the SPI date register (bits 0-26 of 0x500D0000). */
static const sim_reg_init esp32p4_regs[] = {
    {0x500D0000, 0x2207202},
};

/* Package variants: the eFuse words that make esptool v5.3.1 (get_chip_description,
 * get_chip_features in esptool/targets/<chip>.py) name the part, written out from its
 * field positions by hand rather than from espgang's chip table, so that a wrong bit
 * there does not agree with itself here. */

/* ESP32, eFuse block 0 word 3 (0x3FF5A00C): package version bits 9-11 (and bit 2 above
 * them), bit 0 no second core, bit 13 a rated frequency burnt, bit 12 it is 160 MHz;
 * word 4 (0x3FF5A010) bits 8-12 the ADC reference calibration (nonzero: present). */
#define E32_W3(pkg, bits)                                                                          \
    {                                                                                              \
        0x3FF5A00C, (pkg) << 9 | (bits)                                                            \
    }
#define E32_VREF                                                                                   \
    {                                                                                              \
        0x3FF5A010, 0x0Au << 8                                                                     \
    }
#define E32_240MHZ (1u << 13)
#define E32_160MHZ (3u << 12)
static const sim_package esp32_packages[] = {
    {"ESP32-D0WD-V3", 1, {E32_W3(1u, E32_240MHZ), E32_VREF}},
    {"ESP32-D0WD", -1, {E32_W3(1u, E32_240MHZ), E32_VREF}},
    {"ESP32-D0WDQ6-V3", 1, {E32_W3(0u, E32_240MHZ), E32_VREF}},
    {"ESP32-D0WDQ6", -1, {E32_W3(0u, E32_240MHZ), E32_VREF}},
    {"ESP32-S0WD", 0, {E32_W3(1u, E32_160MHZ | 1u), E32_VREF}},
    {"ESP32-D2WD", 0, {E32_W3(2u, E32_160MHZ), E32_VREF}},
    {"ESP32-U4WDH", 0, {E32_W3(4u, E32_240MHZ), E32_VREF}},
    {"ESP32-PICO-V3", 1, {E32_W3(5u, E32_240MHZ), E32_VREF}},
    {"ESP32-PICO-D4", -1, {E32_W3(5u, E32_240MHZ), E32_VREF}},
    {"ESP32-PICO-V3-02", 0, {E32_W3(6u, E32_240MHZ), E32_VREF}},
    {"ESP32-D0WDR2-V3", 1, {E32_W3(7u, E32_240MHZ), E32_VREF}},
};

/* ESP32-S2, eFuse block 1 word 3 (0x3F41A050): embedded flash bits 21-24, PSRAM bits
 * 28-31 (1: 2 MB, 2: 4 MB); block 2 word 4 (0x3F41A06C) bits 4-6: calibration V2. */
#define S2_CAL                                                                                     \
    {                                                                                              \
        0x3F41A06C, 2u << 4                                                                        \
    }
static const sim_package esp32s2_packages[] = {
    {"ESP32-S2", 0, {S2_CAL}},
    {"ESP32-S2FH2", 0, {{0x3F41A050, 1u << 21}, S2_CAL}},
    {"ESP32-S2FH4", 0, {{0x3F41A050, 2u << 21}, S2_CAL}},
    {"ESP32-S2FNR2", 0, {{0x3F41A050, 2u << 21 | 1u << 28}, S2_CAL}},
    {"ESP32-S2R2", 0, {{0x3F41A050, 1u << 28}, S2_CAL}},
};

/* ESP32-S3, eFuse block 1 word 3 (0x60007050): package bits 21-23, embedded flash bits
 * 27-29 (1: 8 MB, 2: 4 MB); word 4 (0x60007054): flash maker bits 0-2 (1: XMC), PSRAM
 * bits 3-4 (1: 8 MB, 2: 2 MB) and its maker bits 7-8 (1: AP 3.3 V, 2: AP 1.8 V). */
static const sim_package esp32s3_packages[] = {
    {"ESP32-S3", 0, {{0}}},
    {"ESP32-S3FN8", 0, {{0x60007050, 1u << 27}, {0x60007054, 1u}}},
    {"ESP32-S3FH4R2", 0, {{0x60007050, 2u << 27}, {0x60007054, 1u | 2u << 3 | 1u << 7}}},
    {"ESP32-S3R8", 0, {{0x60007054, 1u << 3 | 1u << 7}}},
    {"ESP32-S3R8V", 0, {{0x60007054, 1u << 3 | 2u << 7}}},
    {"ESP32-S3-PICO-1-N8R2",
     0,
     {{0x60007050, 1u << 21 | 1u << 27}, {0x60007054, 1u | 2u << 3 | 1u << 7}}},
};

/* ESP32-C2, eFuse block 2 word 1 (0x60008844): package bits 22-24; word 7 (0x6000885C):
 * embedded flash bits 29-31 (1: 4 MB, 2: 2 MB) and its maker bits 24-26 (2: GD). */
static const sim_package esp32c2_packages[] = {
    {"ESP32-C2", 0, {{0}}},
    {"ESP8684H2", 0, {{0x60008844, 1u << 22}, {0x6000885C, 2u << 29 | 2u << 24}}},
    {"ESP8684H4", 0, {{0x60008844, 1u << 22}, {0x6000885C, 1u << 29 | 2u << 24}}},
};

/* ESP32-C3, eFuse block 1 word 3 (0x60008850): package bits 21-23, embedded flash bits
 * 27-29 (1: 4 MB); word 4 (0x60008854) bits 0-2 its maker (1: XMC). */
static const sim_package esp32c3_packages[] = {
    {"ESP32-C3", 0, {{0}}},
    {"ESP32-C3FH4", 0, {{0x60008850, 1u << 27}, {0x60008854, 1u}}},
    {"ESP8685H4", 0, {{0x60008850, 1u << 21 | 1u << 27}, {0x60008854, 1u}}},
};

/* ESP32-C6, eFuse block 1 word 3 (0x600B0850): package bits 24-26 (1: QFN32 with
 * flash); word 4 (0x600B0854) bits 0-2 the embedded flash (1: 4 MB, 2: 8 MB). */
static const sim_package esp32c6_packages[] = {
    {"ESP32-C6FH4", 0, {{0x600B0850, 1u << 24}, {0x600B0854, 1u}}},
    {"ESP32-C6FH8", 0, {{0x600B0850, 1u << 24}, {0x600B0854, 2u}}},
    {"ESP32-C6", 0, {{0}}},
};

static const sim_package esp32c5_packages[] = {{"ESP32-C5", 0, {{0}}}};
static const sim_package esp32h2_packages[] = {{"ESP32-H2", 0, {{0}}}};
static const sim_package esp32p4_packages[] = {{"ESP32-P4", 0, {{0}}}};

#define PKGS(c) c##_packages, sizeof(c##_packages) / sizeof(c##_packages[0])

#define ROM_LINE(chip, build) "ESP-ROM:" chip "\r\nBuild:" build "\r\n"
#define USB_UART0             "boot:0x5 (DOWNLOAD(USB/UART0))"

/* The banners and boot codes are as boards print them (README lists where each fact
 * comes from); the strap codes of the newest chips (C5, P4) are a best guess. Clients
 * only look for `boot:0x..` and `waiting for download`.
 *
 * Watchdog: the RTC watchdog's stage 0 holds 128000 ticks at reset on ESP32 and 200000
 * on the later chips (ESP-IDF's rtc_cntl_reg.h / lp_wdt_reg.h), counted by the internal
 * RC slow clock: 150 kHz on ESP32, 90 kHz on ESP32-S2, 136 kHz on the others
 * (SOC_CLK_RC_SLOW_FREQ_APPROX in ESP-IDF's soc_caps.h). */
static const sim_chip_data rows[] = {
    {"esp32", 3, 1, SIM_ROM_ETS, "ets Jun  8 2016 00:22:57\r\n\r\n",
     "ets Jul 29 2019 12:21:46\r\n\r\n", 0x13,
     "boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))", 150000, 128000, 0, NULL, 0,
     PKGS(esp32), 40, 26, 0, 0},
    {"esp32s2", 0, 0, SIM_ROM_ESP, ROM_LINE("esp32s2-rc4-20191025", "Oct 25 2019"), NULL, 0x8,
     "boot:0x0 (DOWNLOAD(USB/UART0/1))", 90000, 200000, 100, NULL, 0, PKGS(esp32s2), 40, 0, 0, 0},
    {"esp32s3", 0, 2, SIM_ROM_ESP, ROM_LINE("esp32s3-20210327", "Mar 27 2021"), NULL, 0x8,
     "boot:0x0 (DOWNLOAD(USB/UART0))", 136000, 200000, 100, NULL, 0, PKGS(esp32s3), 40, 0, 0, 0},
    {"esp32c2", 1, 0, SIM_ROM_ESP, ROM_LINE("esp8684-api2-20220127", "Jan 27 2022"), NULL, 0xc,
     USB_UART0, 136000, 200000, 100, NULL, 0, PKGS(esp32c2), 40, 26, 0, 0},
    {"esp32c3", 0, 4, SIM_ROM_ESP, ROM_LINE("esp32c3-api1-20210207", "Feb  7 2021"), NULL, 0xc,
     "boot:0x4 (DOWNLOAD(USB/UART0/1))", 136000, 200000, 100, NULL, 0, PKGS(esp32c3), 40, 0, 0, 0},
    /* ESP32-C5 boards carry a 48 MHz crystal (40 MHz is the other choice); the ROM
     * records it in PCR_SYSCLK_CONF bits 24-30 (0x60096110). */
    {"esp32c5", 1, 0, SIM_ROM_ESP_LP, ROM_LINE("esp32c5-eco2-20250121", "Jan 21 2025"), NULL, 0x18,
     USB_UART0, 136000, 200000, 100, NULL, 0, PKGS(esp32c5), 48, 40, 0x60096110, 24},
    {"esp32c6", 0, 1, SIM_ROM_ESP_LP, ROM_LINE("esp32c6-20220919", "Sep 19 2022"), NULL, 0x6c,
     USB_UART0, 136000, 200000, 100, NULL, 0, PKGS(esp32c6), 40, 0, 0, 0},
    /* ESP32-H2 runs from a 32 MHz crystal. */
    {"esp32h2", 0, 1, SIM_ROM_ESP_LP, ROM_LINE("esp32h2-20221101", "Nov  1 2022"), NULL, 0xc,
     USB_UART0, 136000, 200000, 100, NULL, 0, PKGS(esp32h2), 32, 0, 0, 0},
    {"esp32p4", 1, 0, SIM_ROM_ESP_LP, ROM_LINE("esp32p4-eco2-20240710", "Jul 10 2024"), NULL, 0x30f,
     USB_UART0, 136000, 200000, 100, esp32p4_regs, sizeof(esp32p4_regs) / sizeof(esp32p4_regs[0]),
     PKGS(esp32p4), 40, 0, 0, 0},
};

static const sim_chip_data fallback = {
    NULL, 0,    0,         SIM_ROM_ESP, ROM_LINE("unknown", "Jan  1 2020"),
    NULL, 0xc,  USB_UART0, 136000,      200000,
    100,  NULL, 0,         NULL,        0,
    40,   0,    0,         0,
};

const sim_chip_data *sim_chip_data_for(const eg_chip *chip)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (strcmp(rows[i].id, chip->id) == 0)
            return &rows[i];
    return &fallback;
}

static int made_at(const sim_package *p, unsigned major)
{
    return !((p->rev3 > 0 && major != 3) || (p->rev3 < 0 && major == 3));
}

const sim_package *sim_chip_package(const sim_chip_data *cd, const eg_chip *chip, const char *name,
                                    unsigned major)
{
    char names[512];
    size_t at = 0;

    names[0] = '\0';
    for (size_t i = 0; i < cd->n_packages; i++) {
        const sim_package *p = &cd->packages[i];
        if (strcasecmp(p->name, name) == 0) {
            if (!made_at(p, major)) {
                eg_error_set(EG_EINVAL, "%s exists only %s revision v3 (this board is v%u.x)",
                             p->name, p->rev3 > 0 ? "as" : "below", major);
                return NULL;
            }
            return p;
        }
        int n = snprintf(names + at, sizeof(names) - at, "%s%s", i ? ", " : "", p->name);
        if (n > 0 && (size_t)n < sizeof(names) - at)
            at += (size_t)n;
    }
    eg_error_set(EG_EINVAL, "%s has no package '%s' (%s)", chip->name, name,
                 cd->n_packages ? names : "none");
    return NULL;
}

const sim_package *sim_chip_default_package(const sim_chip_data *cd, unsigned major)
{
    for (size_t i = 0; i < cd->n_packages; i++)
        if (made_at(&cd->packages[i], major))
            return &cd->packages[i];
    return NULL;
}

int sim_chip_check_crystal(const sim_chip_data *cd, const eg_chip *chip, unsigned mhz)
{
    if (mhz == cd->crystal_mhz || (cd->crystal_alt_mhz && mhz == cd->crystal_alt_mhz))
        return 0;
    if (cd->crystal_alt_mhz)
        return eg_error_set(EG_EINVAL, "%s has a %u or %u MHz crystal, not %u", chip->name,
                            cd->crystal_mhz, cd->crystal_alt_mhz, mhz);
    return eg_error_set(EG_EINVAL, "%s has a %u MHz crystal, not %u", chip->name, cd->crystal_mhz,
                        mhz);
}

const char *sim_chip_rom_banner(const sim_chip_data *cd, unsigned major)
{
    return cd->rom_banner_v3 && major >= 3 ? cd->rom_banner_v3 : cd->rom_banner;
}

static const unsigned reset_codes[SIM_RST_KINDS] = {
    [SIM_RST_POWERON] = 0x1, [SIM_RST_SW_SYS] = 0x3,  [SIM_RST_SW_CPU] = 0xc,
    [SIM_RST_TG0WDT] = 0x7,  [SIM_RST_RTCWDT] = 0x10,
};

/* The names each ROM prints: ESP32 as its boards show them; the ESP-ROM chips as
 * ESP32-C3 and ESP32-S3 boards show them; the LP chips as ESP32-C6 boards show
 * POWERON, SW_CPU and LP_WDT_SYS (SW_SYS and TG0_WDT_HPSYS by the same pattern, not
 * seen in a log). */
static const char *const reset_names[][SIM_RST_KINDS] = {
    [SIM_ROM_ETS] = {"POWERON_RESET", "SW_RESET", "SW_CPU_RESET", "TG0WDT_SYS_RESET",
                     "RTCWDT_RTC_RESET"},
    [SIM_ROM_ESP] = {"POWERON", "RTC_SW_SYS_RST", "RTC_SW_CPU_RST", "TG0WDT_SYS_RST",
                     "RTCWDT_RTC_RST"},
    [SIM_ROM_ESP_LP] = {"POWERON", "SW_SYS", "SW_CPU", "TG0_WDT_HPSYS", "LP_WDT_SYS"},
};

unsigned sim_reset_code(sim_reset_reason r)
{
    return r < SIM_RST_KINDS ? reset_codes[r] : 0;
}

const char *sim_reset_name(const sim_chip_data *cd, sim_reset_reason r)
{
    return r < SIM_RST_KINDS ? reset_names[cd->style][r] : "?";
}

unsigned sim_chip_wdt_ms(const sim_chip_data *cd, uint64_t hold)
{
    uint64_t ms = hold * 2 * 1000 / cd->rc_slow_hz;
    return ms > 3600000 ? 3600000 : (unsigned)ms;
}
