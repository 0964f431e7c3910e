#include "chipdata.h"

#include <string.h>

/* ESP32-P4 has no magic value at 0x40001000; loaders that do not use GET_SECURITY_INFO
 * recognise it by the SPI date register (bits 0-26 of 0x500D0000). */
static const sim_reg_init esp32p4_regs[] = {
    {0x500D0000, 0x2207202},
};

#define ROM_LINE(chip, build) "ESP-ROM:" chip "\r\nBuild:" build "\r\n"
#define APP_BOOT(code)        "rst:0x1 (POWERON),boot:" code " (SPI_FAST_FLASH_BOOT)\r\n"

/* The banners and boot codes are as boards print them; the exact strap codes of the
 * newest chips (C5, P4) are a best guess. Clients only look for `boot:0x..` without
 * `waiting for download`. */
static const sim_chip_data rows[] = {
    {"esp32", 3, 0,
     "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n",
     NULL, 0},
    {"esp32s2", 0, 0, ROM_LINE("esp32s2-rc4-20191025", "Oct 25 2019") APP_BOOT("0x8"), NULL, 0},
    {"esp32s3", 0, 2, ROM_LINE("esp32s3-20210327", "Mar 27 2021") APP_BOOT("0x8"), NULL, 0},
    {"esp32c2", 1, 0, ROM_LINE("esp8684-api2-20220127", "Jan 27 2022") APP_BOOT("0xc"), NULL, 0},
    {"esp32c3", 0, 4, ROM_LINE("esp32c3-api1-20210207", "Feb  7 2021") APP_BOOT("0xc"), NULL, 0},
    {"esp32c5", 1, 0, ROM_LINE("esp32c5-eco2-20250121", "Jan 21 2025") APP_BOOT("0x18"), NULL, 0},
    {"esp32c6", 0, 1, ROM_LINE("esp32c6-20220919", "Sep 19 2022") APP_BOOT("0x6c"), NULL, 0},
    {"esp32h2", 0, 1, ROM_LINE("esp32h2-20221101", "Nov  1 2022") APP_BOOT("0xc"), NULL, 0},
    {"esp32p4", 1, 0, ROM_LINE("esp32p4-eco2-20240710", "Jul 10 2024") APP_BOOT("0x30f"),
     esp32p4_regs, sizeof(esp32p4_regs) / sizeof(esp32p4_regs[0])},
};

static const sim_chip_data fallback = {
    NULL, 0, 0, ROM_LINE("unknown", "Jan  1 2020") APP_BOOT("0xc"), NULL, 0,
};

const sim_chip_data *sim_chip_data_for(const eg_chip *chip)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (strcmp(rows[i].id, chip->id) == 0)
            return &rows[i];
    return &fallback;
}
