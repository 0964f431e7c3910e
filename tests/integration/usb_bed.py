"""A umockdev test bed of USB serial devices for espgang's port tests.

Run under umockdev-wrapper (it preloads the library that shows the bed's /sys, /dev and
uevents to this process and its children). Builds the devices below, each with the
sysfs attributes and links the kernel gives such devices, then runs the command given
after '--' in the bed and exits with its status.

  umockdev-wrapper python3 usb_bed.py [--only LOC,...] -- COMMAND ARGS...

Devices (location: what):
  1-2.1  Silicon Labs CP2102 (10c4:ea60), ttyUSB0, usb-serial driver cp210x
  1-2.2  WCH CH340 (1a86:7523), ttyUSB1, usb-serial driver ch341
  1-2.3  Espressif USB JTAG/serial debug unit (303a:1001), ttyACM0, cdc_acm
  1-2.4  FTDI FT232R (0403:6001), ttyUSB2, usb-serial driver ftdi_sio
  1-3    a USB modem (12d1:1001, not a known bridge), ttyUSB3
"""
import os
import subprocess
import sys

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

HUB = "/devices/pci0000:00/0000:00:14.0/usb1"

DEVICES = [
    # location, tty, vid, pid, manufacturer, product, serial, driver (None: cdc_acm)
    ("1-2.1", "ttyUSB0", "10c4", "ea60", "Silicon Labs", "CP2102 USB to UART Bridge Controller", "0001", "cp210x"),
    ("1-2.2", "ttyUSB1", "1a86", "7523", "QinHeng Electronics", "USB Serial", "", "ch341"),
    ("1-2.3", "ttyACM0", "303a", "1001", "Espressif", "USB JTAG/serial debug unit", "F4:12:FA:00:00:01", None),
    ("1-2.4", "ttyUSB2", "0403", "6001", "FTDI", "FT232R USB UART", "A50285BI", "ftdi_sio"),
    ("1-3", "ttyUSB3", "12d1", "1001", "Huawei", "Mobile Broadband Modem", "", "option1"),
]


def node_path(loc, tty, driver):
    """The sysfs path of the terminal device_text() makes (for remove_device)."""
    parent = HUB + "/" + ("1-2/" if loc.startswith("1-2.") else "") + loc
    intf = parent + "/" + loc + ":1.0"
    return "/sys" + intf + ("/" + tty if driver else "") + "/tty/" + tty


def device_paths(loc, tty, driver):
    """The sysfs paths device_text() makes, the terminal first (for remove_device, which
    removes one device and its class links)."""
    parent = "/sys" + HUB + "/" + ("1-2/" if loc.startswith("1-2.") else "") + loc
    intf = parent + "/" + loc + ":1.0"
    paths = [node_path(loc, tty, driver)]
    if driver:
        paths.append(intf + "/" + tty)
    return paths + [intf, parent]


def device_text(loc, tty, vid, pid, man, prod, serial, driver):
    parent = HUB + "/" + ("1-2/" if loc.startswith("1-2.") else "") + loc
    intf = parent + "/" + loc + ":1.0"
    minor = int(tty.lstrip("tyUSBACM"))
    major = 166 if tty.startswith("ttyACM") else 188
    if driver:
        port = intf + "/" + tty
        node = port + "/tty/" + tty
        blocks = [
            f"P: {node}\nN: {tty}\nE: DEVNAME=/dev/{tty}\nE: SUBSYSTEM=tty\n"
            f"E: MAJOR={major}\nE: MINOR={minor}\nA: dev={major}:{minor}\nL: device=../../../{tty}\n",
            f"P: {port}\nE: SUBSYSTEM=usb-serial\nE: DRIVER={driver}\n",
        ]
    else:
        node = intf + "/tty/" + tty
        blocks = [
            f"P: {node}\nN: {tty}\nE: DEVNAME=/dev/{tty}\nE: SUBSYSTEM=tty\n"
            f"E: MAJOR={major}\nE: MINOR={minor}\nA: dev={major}:{minor}\nL: device=../../../{loc}:1.0\n"
        ]
    blocks.append(
        f"P: {intf}\nE: DEVTYPE=usb_interface\nE: SUBSYSTEM=usb\nE: DRIVER={driver or 'cdc_acm'}\n"
        f"A: bInterfaceNumber=00\nA: bInterfaceClass={'ff' if driver else '02'}\n"
    )
    usb = (
        f"P: {parent}\nE: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\nA: idVendor={vid}\nA: idProduct={pid}\n"
        f"A: manufacturer={man}\nA: product={prod}\nA: busnum=1\nA: devnum={minor + 2}\n"
    )
    if serial:
        usb += f"A: serial={serial}\n"
    blocks.append(usb)
    # Parents first, as the kernel announces them: the terminal's "add" comes once its
    # USB device has its attributes.
    return "\n".join(reversed(blocks))


def main():
    args = sys.argv[1:]
    only = None
    if args and args[0] == "--only":
        only = set(args[1].split(","))
        args = args[2:]
    if not args or args[0] != "--":
        sys.exit("usage: usb_bed.py [--only LOC,...] -- COMMAND ARGS...")
    bed = UMockdev.Testbed.new()
    for d in DEVICES:
        if only is None or d[0] in only:
            bed.add_from_string(device_text(*d))
    sys.exit(subprocess.run(args[1:]).returncode)


if __name__ == "__main__":
    main()
