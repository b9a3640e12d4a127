"""One FilterSet per model, shared by the API and the console."""

import django_filters as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from controlroom.api.fields import IsoDateTimeFilter
from controlroom.models import Agency, Sector
from incidents.models import Alert, Category, Incident, Unit


@extend_schema_field(OpenApiTypes.STR)
class CategoryFilter(filters.ModelMultipleChoiceFilter):
    """Categories by code (``?category=rixe&category=vol``)."""

    def __init__(self, **kwargs):
        super().__init__(
            field_name="category__code", to_field_name="code", queryset=Category.objects.all(),
            **kwargs,
        )


class IncidentFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Incident.Status.choices)
    category = CategoryFilter()
    sector = filters.ModelChoiceFilter(queryset=Sector.objects.all())
    agency = filters.ModelChoiceFilter(field_name="agencies", queryset=Agency.objects.all())
    # Priority 1 is the most serious: ?priority_up_to=2 gives P1 and P2.
    priority_up_to = filters.NumberFilter(field_name="priority", lookup_expr="lte")
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    open = filters.BooleanFilter(method="filter_open", label="open")

    class Meta:
        model = Incident
        fields = ["status", "category", "sector", "agency", "priority"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        lookup = {"status__in": Incident.OPEN_STATUSES}
        return queryset.filter(**lookup) if value else queryset.exclude(**lookup)


class AlertFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Alert.Status.choices)
    source = filters.MultipleChoiceFilter(choices=Alert.Source.choices)
    category = CategoryFilter()
    sector = filters.ModelChoiceFilter(queryset=Sector.objects.all())
    severity_up_to = filters.NumberFilter(field_name="severity", lookup_expr="lte")
    received_after = IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")
    escalated = filters.BooleanFilter(field_name="escalated_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Alert
        fields = ["status", "source", "category", "sector", "incident"]


class UnitFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Unit.Status.choices)
    kind = filters.MultipleChoiceFilter(choices=Unit.Kind.choices)
    agency = filters.ModelChoiceFilter(queryset=Agency.objects.all())

    class Meta:
        model = Unit
        fields = ["status", "kind", "agency", "active"]
