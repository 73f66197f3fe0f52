"""Package marker: the rule pages ship in the wheel as ``idemlint._docs`` (`idemlint rule`)."""
