"""The timeline editor (view.TimelineView) and the parts it is made of."""
