"""Input fields shared by the API's serializers and filters."""

import django_filters
from django import forms
from rest_framework import serializers

from controlroom.moments import check_offset


class DateTimeField(serializers.DateTimeField):
    """DRF's date-time, refusing UTC offsets beyond ±14 h with a 400 naming the field."""

    def enforce_timezone(self, value):
        try:
            check_offset(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return super().enforce_timezone(value)


class IsoDateTimeFormField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None:
            try:
                check_offset(moment)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return moment


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """A date-time filter (``?created_after=``) with the same bounds."""

    field_class = IsoDateTimeFormField
