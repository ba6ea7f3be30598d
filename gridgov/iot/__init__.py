"""Devices in elderly households, their readings, alarm rules, and alarms that become
urgent tasks (docs/iot.md)."""
