"""Knowledge-base package marker: this directory ships in the wheel as ``idemlint._kb``."""
