#include "chipdata.h"

#include <string.h>

/* ESP32-P4 has no magic value at 0x40001000; loaders that do not use GET_SECURITY_INFO
 * recognise it by the SPI date register (bits 0-26 of 0x500D0000). */
static const sim_reg_init esp32p4_regs[] = {
    {0x500D0000, 0x2207202},
};

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
    {"esp32", 3, 0, SIM_ROM_ETS, "ets Jun  8 2016 00:22:57\r\n\r\n",
     "ets Jul 29 2019 12:21:46\r\n\r\n", 0x13,
     "boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))", 150000, 128000, 0, NULL, 0},
    {"esp32s2", 0, 0, SIM_ROM_ESP, ROM_LINE("esp32s2-rc4-20191025", "Oct 25 2019"), NULL, 0x8,
     "boot:0x0 (DOWNLOAD(USB/UART0/1))", 90000, 200000, 100, NULL, 0},
    {"esp32s3", 0, 2, SIM_ROM_ESP, ROM_LINE("esp32s3-20210327", "Mar 27 2021"), NULL, 0x8,
     "boot:0x0 (DOWNLOAD(USB/UART0))", 136000, 200000, 100, NULL, 0},
    {"esp32c2", 1, 0, SIM_ROM_ESP, ROM_LINE("esp8684-api2-20220127", "Jan 27 2022"), NULL, 0xc,
     USB_UART0, 136000, 200000, 100, NULL, 0},
    {"esp32c3", 0, 4, SIM_ROM_ESP, ROM_LINE("esp32c3-api1-20210207", "Feb  7 2021"), NULL, 0xc,
     "boot:0x4 (DOWNLOAD(USB/UART0/1))", 136000, 200000, 100, NULL, 0},
    {"esp32c5", 1, 0, SIM_ROM_ESP_LP, ROM_LINE("esp32c5-eco2-20250121", "Jan 21 2025"), NULL, 0x18,
     USB_UART0, 136000, 200000, 100, NULL, 0},
    {"esp32c6", 0, 1, SIM_ROM_ESP_LP, ROM_LINE("esp32c6-20220919", "Sep 19 2022"), NULL, 0x6c,
     USB_UART0, 136000, 200000, 100, NULL, 0},
    {"esp32h2", 0, 1, SIM_ROM_ESP_LP, ROM_LINE("esp32h2-20221101", "Nov  1 2022"), NULL, 0xc,
     USB_UART0, 136000, 200000, 100, NULL, 0},
    {"esp32p4", 1, 0, SIM_ROM_ESP_LP, ROM_LINE("esp32p4-eco2-20240710", "Jul 10 2024"), NULL, 0x30f,
     USB_UART0, 136000, 200000, 100, esp32p4_regs, sizeof(esp32p4_regs) / sizeof(esp32p4_regs[0])},
};

static const sim_chip_data fallback = {
    NULL, 0,    0,         SIM_ROM_ESP, ROM_LINE("unknown", "Jan  1 2020"),
    NULL, 0xc,  USB_UART0, 136000,      200000,
    100,  NULL, 0,
};

const sim_chip_data *sim_chip_data_for(const eg_chip *chip)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (strcmp(rows[i].id, chip->id) == 0)
            return &rows[i];
    return &fallback;
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
